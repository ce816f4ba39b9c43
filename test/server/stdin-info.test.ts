// ExecInfo.stdin: how much of an exec's stdin the server took in, from every socket, and whether
// eof came: what a client that resumes after a drop needs to resend exactly what never arrived.
import { expect, test } from "bun:test";
import type { ExecInfo, ServerMessage } from "../../src/protocol/index.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { replyOf } from "../helpers/round-trip.ts";
import { startServer } from "../helpers/server-process.ts";

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
