// ExecInfo.stdin: how much of an exec's stdin the server took in, from every socket, and whether
// eof came: what a client that resumes after a drop needs to resend exactly what never arrived.
import { expect, test } from "bun:test";
import type { ExecInfo, ServerMessage } from "../../src/protocol/index.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { replyOf } from "../helpers/round-trip.ts";
import { startServer } from "../helpers/server-process.ts";
import { startLaggingProxy } from "../helpers/lagging-proxy.ts";

/** The exec's info as `list` reports it to `client`. */
async function infoOf(client: TestClient, id: string): Promise<ExecInfo | undefined> {
  const listId = `list-${crypto.randomUUID()}`;
  client.send({ type: "list", id: listId });
  const reply = await replyOf<Extract<ServerMessage, { type: "execs" }>>(client, listId);
  return reply.execs.find((exec) => exec.id === id);
}

/** Waits until `client` has been sent at least `bytes` of the exec's stdout. */
async function stdoutReaches(client: TestClient, id: string, bytes: number): Promise<void> {
  let seen = 0;
  while (seen < bytes) {
    const output = await client.next<Extract<ServerMessage, { type: "output" }>>((message) => message.type === "output" && message.id === id);
    seen = output.offset + Buffer.byteLength(output.data);
  }
}

test("ExecInfo.stdin counts the bytes taken in from every socket and says when eof came; a resumed hello carries it", async () => {
  await using server = await startServer();
  const name = `stdin-info-${crypto.randomUUID()}`;
  const first = await connect(server, { query: { name } });
  await using second = await connect(server, { query: { name } });

  first.send({ type: "exec", id: "cat", argv: ["cat"], stdin: true });
  await first.next((message) => message.type === "started" && message.id === "cat");
  expect((await infoOf(first, "cat"))?.stdin).toEqual({ received: 0, ended: false });

  first.send({ type: "stdin", id: "cat", data: "abc" });
  second.send({ type: "stdin", id: "cat", data: "AAEC", encoding: "base64" });
  // cat echoes all six bytes only once both messages were taken in.
  await stdoutReaches(first, "cat", 6);
  expect((await infoOf(first, "cat"))?.stdin).toEqual({ received: 6, ended: false });

  // A socket that resumes the session (here the first, gone and back) finds the count in hello.
  first.ws.close();
  await first.closed;
  await using back = await connect(server, { query: { session: first.hello.session }, protocols: ["bunker.v1", `bunker.resume.${first.hello.resumeSecret}`] });
  expect(back.hello.execs.find((exec) => exec.id === "cat")?.stdin).toEqual({ received: 6, ended: false });

  back.send({ type: "stdin", id: "cat", eof: true });
  await second.next((message) => message.type === "exit" && message.id === "cat");
  expect((await infoOf(back, "cat"))?.stdin).toEqual({ received: 6, ended: true });

  // An exec without stdin has no stdin field; a PTY exec has one.
  await back.exec({ id: "plain", argv: ["true"] });
  expect(await infoOf(back, "plain")).not.toHaveProperty("stdin");
  back.send({ type: "exec", id: "tty", argv: ["cat"], pty: { cols: 80, rows: 24 } });
  await back.next((message) => message.type === "started" && message.id === "tty");
  expect((await infoOf(back, "tty"))?.stdin).toEqual({ received: 0, ended: false });
  back.send({ type: "signal", id: "tty", signal: "SIGKILL" });
});

test("a resume that replaces the old socket cuts it before it counts: stdin the old one still carried never arrives", async () => {
  await using server = await startServer();
  await using proxy = await startLaggingProxy(server.port);
  const old = await connect({ url: `ws://127.0.0.1:${proxy.port}/ws`, token: server.token });
  expect(old.hello.connection).toMatch(/^[A-Za-z0-9_-]{12}$/);
  old.send({ type: "exec", id: "cat", argv: ["cat"], stdin: true });
  await old.next((message) => message.type === "started" && message.id === "cat");
  old.send({ type: "stdin", id: "cat", data: "A\n" });
  await stdoutReaches(old, "cat", 2);
  // The next message's last bytes wait in the relay: the server has not got it, and the relay
  // could still deliver it later (a stalled connection, not a cut one).
  const held = proxy.lag(16);
  old.send({ type: "stdin", id: "cat", data: "X\n" });
  await held;

  const resume = ["bunker.v1", `bunker.resume.${old.hello.resumeSecret}`];
  await using back = await connect(server, { query: { session: old.hello.session, replaces: old.hello.connection! }, protocols: resume });
  expect(back.hello.connection).not.toBe(old.hello.connection);
  expect(back.hello.execs.find((exec) => exec.id === "cat")?.stdin).toEqual({ received: 2, ended: false });
  // Cut by the server before it greeted the new socket; what the relay held goes nowhere now.
  await old.closed;
  proxy.releaseAll();

  back.send({ type: "attach", id: "cat", offsets: { stdout: 2 } });
  back.send({ type: "stdin", id: "cat", data: "X\n", eof: true });
  let text = "";
  for (;;) {
    const message = await back.next((m) => (m.type === "output" || m.type === "exit") && m.id === "cat");
    if (message.type === "exit") break;
    if (message.type === "output") text += message.data;
  }
  expect(text).toBe("X\n");
  expect((await infoOf(back, "cat"))?.stdin).toEqual({ received: 4, ended: true });
});
