/**
 * A finished exec that streamed more than its output log holds keeps, among the finished execs its
 * session remembers, the log's bytes and no more. Found by a soak: the oldest chunk a full log keeps
 * is the tail of one read, and it was kept as a view of the whole buffer Bun had read it into, so
 * each such exec held up to one read (256 KiB here) besides what the session's budget for finished
 * output (8 MiB) counts: 10.4 MB for a session whose budget counted 8 MiB.
 */
import { expect, test } from "bun:test";
import { connect } from "../helpers/client.ts";
import { HEAP_REPORT_SERVER_COMMAND, heapReport } from "../helpers/heap-report.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";

/** A small log, so that each exec's waste is large beside what it keeps, and 40 execs stay within the 8 MiB budget. */
const LOG_BYTES = 64 * 1024;
const EXECS = 40;
const OUTPUT_BYTES = 1_000_000;
/** One write into a pipe made 1 MiB big (F_SETPIPE_SZ): the server reads it 256 KiB at a time. */
const FLOOD = `perl -e 'fcntl(STDOUT, 1031, 1048576); syswrite(STDOUT, "x" x ${OUTPUT_BYTES})'`;

/**
 * What the server still holds after a full collection. The heap's size, not its array buffers
 * alone: a copy of 64 KiB is made in the heap, a read of Bun's outside it.
 */
const heldBytes = async (server: TestServer) => (await heapReport(server)).heapSize;

test("execs that streamed past their output log hold the log's bytes, not the buffers those were read into", async () => {
  await using server = await startServer({ args: ["--output-log-bytes", String(LOG_BYTES)], command: HEAP_REPORT_SERVER_COMMAND });
  await using client = await connect(server);
  const run = async (id: string) => {
    const { exit, stdout } = await client.exec({ id, cmd: FLOOD });
    expect(exit.code).toBe(0);
    expect(stdout.length).toBe(OUTPUT_BYTES);
  };
  for (let i = 0; i < 3; i++) await run(`warm-${i}`);
  const before = await heldBytes(server);
  for (let i = 0; i < EXECS; i++) await run(`streamed-${i}`);
  const grown = (await heldBytes(server)) - before;
  // Each keeps the last LOG_BYTES of its stdout (2.6 MB for the 40). Measured: 3.9 MB (about 70 KB
  // each, and 0.6 MB whatever the count); 9.8 MB with each oldest chunk a view of its read's buffer.
  expect(grown).toBeLessThan(2 * EXECS * LOG_BYTES);
});
