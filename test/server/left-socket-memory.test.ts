/**
 * A socket that leaves a session is kept for the hold on output (--hold-output, 60 s) only when it
 * still followed an exec: the hold exists so that a client that reconnects within it loses none of
 * the output its socket was still to be sent. Found by a soak: every socket that left was kept for
 * the hold (a timer, the socket and its data, ~1.3 KB), whether or not it followed anything, so a
 * client that reconnects every second kept about 60 of them.
 */
import { describe, expect, test } from "bun:test";
import { connect, type TestClient } from "../helpers/client.ts";
import { HEAP_REPORT_SERVER_COMMAND, heapReport } from "../helpers/heap-report.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";

const ROUNDS = 1000;

const heapSize = async (server: TestServer) => (await heapReport(server)).heapSize;

const resume = (server: TestServer, { session, resumeSecret }: TestClient["hello"]) =>
  connect(server, { query: { session }, protocols: ["bunker.v1", `bunker.resume.${resumeSecret!}`] });

test("sockets that followed no exec are not kept once they leave", async () => {
  // Without a sandbox: what a socket leaves behind does not depend on it.
  await using server = await startServer({ args: ["--sandbox", "none"], command: HEAP_REPORT_SERVER_COMMAND });
  await using agent = await connect(server);
  // An exec the session remembers, finished and sent: nothing to hold for anyone.
  expect((await agent.exec({ id: "done", argv: ["echo", "hi"] })).exit.code).toBe(0);
  const resumeAndLeave = async () => {
    const socket = await resume(server, agent.hello);
    expect(socket.hello.resumed).toBe(true);
    socket.ws.close();
    await socket.closed;
  };
  for (let i = 0; i < 50; i++) await resumeAndLeave();
  // The first report costs the server ~0.5 MB of its own.
  await heapSize(server);
  const before = await heapSize(server);
  for (let i = 0; i < ROUNDS; i++) await resumeAndLeave();
  const grown = (await heapSize(server)) - before;
  // Measured: 143 KB for the 1000; 1.26 MB with each socket kept for the hold.
  expect(grown).toBeLessThan(ROUNDS * 400);
});

describe("a socket that followed a running exec", () => {
  const LINES = 100_000;
  const expected = Array.from({ length: LINES }, (_, i) => `${i + 1}\n`).join("");

  /** Starts `seq` on a socket that takes 16 KiB of it and leaves; resolves with that socket's hello. */
  async function followAndLeave(server: TestServer): Promise<TestClient["hello"]> {
    const agent = await connect(server);
    // A window the agent never acks: the server sends it at most 16 KiB, and keeps the rest for it.
    agent.send({ type: "exec", id: "count", cmd: `seq 1 ${LINES}`, ackWindowBytes: 16384 });
    await agent.next((m) => m.type === "output" && m.id === "count");
    agent.ws.close();
    await agent.closed;
    return agent.hello;
  }

  // A small log, so that a command run free drops what the client has not had within 64 KiB.
  const args = ["--sandbox", "none", "--output-log-bytes", "65536"];

  test("is held once it leaves: its client comes back to every byte", async () => {
    await using server = await startServer({ args });
    const hello = await followAndLeave(server);
    await using back = await resume(server, hello);
    back.send({ type: "attach", id: "count", offsets: { stdout: 0, stderr: 0 } });
    const { stdout, messages } = await back.runToExit("count");
    expect(messages.filter((m) => m.type === "gap")).toEqual([]);
    expect(stdout === expected).toBe(true);
  });

  test("is let go when the hold runs out: the command runs free, and its client comes back to a gap", async () => {
    await using server = await startServer({ args: [...args, "--hold-output", "0s"] });
    const hello = await followAndLeave(server);
    // A viewer holds nothing back: it sees the exit once the command has run free.
    await using viewer = await connect(server, { token: undefined, query: { session: hello.session }, protocols: ["bunker.v1", `bunker.view.${hello.viewSecret!}`] });
    viewer.send({ type: "attach", id: "count" });
    await viewer.runToExit("count");
    await using back = await resume(server, hello);
    back.send({ type: "attach", id: "count", offsets: { stdout: 0, stderr: 0 } });
    const { stdout, messages } = await back.runToExit("count");
    expect(messages.filter((m) => m.type === "gap")).toEqual([{ type: "gap", id: "count", stream: "stdout", from: 0, to: expected.length - 65536 }]);
    expect(stdout === expected.slice(-65536)).toBe(true);
  });
});
