/**
 * An exec cut by maxOutputBytes keeps, among the finished execs its session remembers, the bytes
 * within its limit and no more. Found by a soak of an agent that caps every command's output (as
 * agents cap a tool's result at ~30 KB): the last read of each such exec was kept as a view of the
 * whole buffer Bun had read it into, so the server held 43 KB per exec cut at 20,000 bytes (from
 * the pipe's 64 KiB reads), 256 KiB per exec whose command had made its pipe bigger, while the
 * session's budget for finished output (8 MiB) counted 20,000 each: a session could keep 2 to 13
 * times what PROTOCOL.md says.
 */
import { expect, test } from "bun:test";
import { connect } from "../helpers/client.ts";
import { HEAP_REPORT_SERVER_COMMAND, heapReport } from "../helpers/heap-report.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";

const LIMIT_BYTES = 20_000;
const EXECS = 30;
/**
 * One write of 4 MB into a pipe made 1 MiB big (F_SETPIPE_SZ): the kernel wakes the server once the
 * pipe is full, and the server reads 256 KiB at once, of which the first 20,000 bytes are kept.
 */
const FLOOD = `perl -e 'fcntl(STDOUT, 1031, 1048576); syswrite(STDOUT, "x" x 4000000)'`;

/** Array buffers the server still holds after a full collection. */
const heldArrayBuffers = async (server: TestServer) => (await heapReport(server)).arrayBuffers;

test.each([
  { kind: "plain execs", shell: undefined },
  { kind: "commands of a persistent shell", shell: "main" },
])("$kind cut by maxOutputBytes hold the bytes within their limit, not the buffers those were read into", async ({ shell }) => {
  await using server = await startServer({ command: HEAP_REPORT_SERVER_COMMAND });
  await using client = await connect(server);
  const run = async (id: string) => {
    const { exit, stdout } = await client.exec({ id, cmd: FLOOD, maxOutputBytes: LIMIT_BYTES, ...(shell !== undefined && { shell }) });
    expect(exit.reason).toBe("output_limit");
    expect(stdout.length).toBe(LIMIT_BYTES);
  };
  for (let i = 0; i < 3; i++) await run(`warm-${i}`);
  const before = await heldArrayBuffers(server);
  for (let i = 0; i < EXECS; i++) await run(`cut-${i}`);
  const grown = (await heldArrayBuffers(server)) - before;
  // Measured: 603 KB for the 30 (their 600,000 bytes); with each read's whole buffer kept, 7.9 MB.
  expect(grown).toBeLessThan(1.5 * EXECS * LIMIT_BYTES);
});
