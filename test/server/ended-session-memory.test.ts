/**
 * A session that ended lets go of its memory: its finished execs' output and records. Found by a
 * soak: a gauge for /metrics kept every ended session until /metrics was next scraped (never, on a
 * server nobody scrapes), and the hold on output of a socket that had left kept its session for the
 * whole hold (60 s) after the session was closed.
 */
import { expect, test } from "bun:test";
import { connect, type TestClient } from "../helpers/client.ts";
import { HEAP_REPORT_SERVER_COMMAND, heapReport } from "../helpers/heap-report.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";

const OUTPUT_BYTES = 3 * 1024 * 1024;
const SESSIONS_PER_WAY = 4;

/** Array buffers the server still holds after a full collection. */
const heldArrayBuffers = async (server: TestServer) => (await heapReport(server)).arrayBuffers;

async function runOutput(client: TestClient): Promise<void> {
  const run = await client.exec({ id: "out", cmd: `head -c ${OUTPUT_BYTES} /dev/zero`, encoding: "base64" });
  expect(run.exit.code).toBe(0);
}

/** A session closed by its own socket. */
async function closedDirectly(server: TestServer): Promise<void> {
  await using client = await connect(server);
  await runOutput(client);
  client.send({ type: "close" });
  await client.next((message) => message.type === "closed");
  await client.closed;
}

/** A session whose socket dropped first (its hold on output starts) and that a resume then closed. */
async function droppedThenClosed(server: TestServer): Promise<void> {
  const first = await connect(server);
  await runOutput(first);
  const { session, resumeSecret } = first.hello;
  first.ws.close();
  await first.closed;
  await using resumed = await connect(server, { query: { session }, protocols: ["bunker.v1", `bunker.resume.${resumeSecret}`] });
  expect(resumed.hello.resumed).toBe(true);
  resumed.send({ type: "close" });
  await resumed.next((message) => message.type === "closed");
  await resumed.closed;
}

test("sessions that ended, closed at once or after their socket dropped, hold none of their output", async () => {
  await using server = await startServer({
    command: HEAP_REPORT_SERVER_COMMAND,
  });
  // One of each first: what the server makes once (code, caches) is in the baseline.
  await closedDirectly(server);
  await droppedThenClosed(server);
  const before = await heldArrayBuffers(server);
  for (let round = 0; round < SESSIONS_PER_WAY; round++) {
    await closedDirectly(server);
    await droppedThenClosed(server);
  }
  const grown = (await heldArrayBuffers(server)) - before;
  // Held, the eight sessions keep about 8.5 MiB (each exec's log keeps its last MiB); let go, none.
  expect(grown).toBeLessThan(OUTPUT_BYTES);
});
