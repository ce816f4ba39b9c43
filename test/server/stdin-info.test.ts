// ExecInfo.stdin: how much of an exec's stdin the server took in, from every socket, and whether
// eof came: what a client that resumes after a drop needs to resend exactly what never arrived.
import { expect, test } from "bun:test";
import type { ExecInfo } from "../../src/protocol/index.ts";
import { connect } from "../helpers/client.ts";
import { replyOf } from "../helpers/round-trip.ts";
import { startServer } from "../helpers/server-process.ts";

test("ExecInfo.stdin counts the bytes taken in from every socket and says when eof came; a resumed hello carries it", async () => {
  await using server = await startServer();
  const name = `stdin-info-${crypto.randomUUID()}`;
  await using first = await connect(server, { query: { name } });
  await using second = await connect(server, { query: { name } });
  const infoOf = async (id: string): Promise<ExecInfo | undefined> => {
    first.send({ type: "list", id: "l" });
    const reply = await replyOf<Extract<import("../../src/protocol/index.ts").ServerMessage, { type: "execs" }>>(first, "l");
    return reply.execs.find((exec) => exec.id === id);
  };

  first.send({ type: "exec", id: "cat", argv: ["cat"], stdin: true });
  await first.next((message) => message.type === "started" && message.id === "cat");
  expect((await infoOf("cat"))?.stdin).toEqual({ received: 0, ended: false });

  first.send({ type: "stdin", id: "cat", data: "abc" });
  second.send({ type: "stdin", id: "cat", data: "AAEC", encoding: "base64" });
  await second.next((message) => message.type === "output" && message.id === "cat" && message.offset + Buffer.byteLength(message.data) >= 3);
  // The list is answered after both stdin messages were handled (a socket's messages in order; the
  // second's was handled before its output could have come back).
  expect((await infoOf("cat"))?.stdin).toEqual({ received: 6, ended: false });

  first.send({ type: "stdin", id: "cat", eof: true });
  await first.next((message) => message.type === "exit" && message.id === "cat");
  expect((await infoOf("cat"))?.stdin).toEqual({ received: 6, ended: true });

  // An exec without stdin has no stdin field; a PTY exec has one.
  await first.exec({ id: "plain", argv: ["true"] });
  expect(await infoOf("plain")).not.toHaveProperty("stdin");
  first.send({ type: "exec", id: "tty", argv: ["cat"], pty: { cols: 80, rows: 24 } });
  await first.next((message) => message.type === "started" && message.id === "tty");
  expect((await infoOf("tty"))?.stdin).toEqual({ received: 0, ended: false });
  first.send({ type: "signal", id: "tty", signal: "SIGKILL" });
});
