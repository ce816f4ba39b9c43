/**
 * Preloaded into a test server (`bun --preload`): on SIGUSR2 it collects garbage, fully, and writes
 * what is still held to stderr as `heap-report arrayBuffers=<bytes> heapSize=<bytes>`. For tests
 * that check that something ended lets go of its memory; await the line with nextStderr.
 */
import { heapStats } from "bun:jsc";

process.on("SIGUSR2", () => {
  Bun.gc(true);
  Bun.gc(true);
  const { arrayBuffers } = process.memoryUsage();
  process.stderr.write(`heap-report arrayBuffers=${arrayBuffers} heapSize=${heapStats().heapSize}\n`);
});
