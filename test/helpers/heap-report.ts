import { join } from "node:path";
import { BUN, REPO_ROOT, type TestServer } from "./server-process.ts";

/** startServer's `command` for a server that answers SIGUSR2 with a heap report (heap-report-preload.ts). */
export const HEAP_REPORT_SERVER_COMMAND = [BUN, "--preload", join(REPO_ROOT, "test", "helpers", "heap-report-preload.ts"), join(REPO_ROOT, "src", "main.ts")];

/** What the server still holds after a full collection: its array buffers and its JavaScript heap, in bytes. */
export async function heapReport(server: TestServer): Promise<{ arrayBuffers: number; heapSize: number }> {
  const report = server.nextStderr(/heap-report arrayBuffers=(\d+) heapSize=(\d+)/);
  server.process.kill("SIGUSR2");
  const [, arrayBuffers, heapSize] = await report;
  return { arrayBuffers: Number(arrayBuffers), heapSize: Number(heapSize) };
}
