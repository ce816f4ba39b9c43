// How a handle paces its stdin by credit (src/client/stdin-credit.ts), frame by frame against a
// scripted server: what a real server shows only under rare timing (a limit sent before the server
// read the request, a holder asked for its credit back mid-write) or not at all (a server that
// predates credit).
import { expect, test } from "bun:test";
import { PRE_CREDIT_REFUSAL, StdinCredit } from "../../src/client/stdin-credit.ts";
import { connectFake, type FakeSocket } from "./fake-socket.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Lets the handle act on what it was sent (its write loop yields one turn of the event loop per
 * piece): enough turns for it to send anything it could, to check that it sent nothing more.
 */
async function settle(): Promise<void> {
  for (let count = 0; count < 20; count++) await turn();
}

/** Resolves once the client has sent `count` stdin messages for `id`. */
async function sentCount(socket: FakeSocket, id: string, count: number): Promise<void> {
  for (let turns = 0; stdinSent(socket, id).length < count; turns++) {
    if (turns > 10_000) throw new Error(`the client sent ${stdinSent(socket, id).length} stdin messages for ${id}, not ${count}`);
    await turn();
  }
}

/** The stdin messages the client sent for `id`, data as its byte count. */
function stdinSent(socket: FakeSocket, id: string): Record<string, unknown>[] {
  return socket.sentOfType("stdin").map((message) => {
    if (message["id"] !== id || typeof message["data"] !== "string") return message;
    return { ...message, data: Buffer.from(message["data"], "base64").byteLength };
  });
}

test("a write asks for credit once the exec has started, sends nothing before the answer, then keeps to the limit", async () => {
  const { socket, session } = await connectFake();
  const handle = session.exec(["cat"], { id: "c", stdin: true });
  const writing = handle.write(new Uint8Array(1.5 * MiB));
  await settle();
  expect(stdinSent(socket, "c")).toEqual([]);
  socket.serverSends({ type: "started", id: "c", pid: 1 });
  await sentCount(socket, "c", 1);
  expect(stdinSent(socket, "c")).toEqual([{ type: "stdin", id: "c", credit: true }]);
  // A limit without `received` was sent before the server read the request: it is not this socket's.
  socket.serverSends({ type: "stdin.ack", id: "c", offset: 0, limit: 64 * MiB });
  await settle();
  expect(stdinSent(socket, "c")).toHaveLength(1);
  socket.serverSends({ type: "stdin.ack", id: "c", offset: 0, limit: 300 * KiB, received: 0 });
  await sentCount(socket, "c", 3);
  await settle();
  expect(stdinSent(socket, "c").slice(1)).toEqual([
    { type: "stdin", id: "c", data: 256 * KiB, encoding: "base64" },
    { type: "stdin", id: "c", data: 44 * KiB, encoding: "base64" },
  ]);
  socket.serverSends({ type: "stdin.ack", id: "c", offset: 0, limit: 1.5 * MiB });
  await writing;
  expect(stdinSent(socket, "c").slice(3).reduce((sum, message) => sum + (message["data"] as number), 0)).toBe(1.5 * MiB - 300 * KiB);
  expect(handle.errors).toEqual([]);
});

test("a handle asked for its credit back while idle gives it back at once, and writes again on the answer", async () => {
  const { socket, session } = await connectFake();
  const handle = session.exec(["cat"], { id: "i", stdin: true });
  socket.serverSends({ type: "started", id: "i", pid: 1 });
  const first = handle.write("abc");
  await sentCount(socket, "i", 1);
  socket.serverSends({ type: "stdin.ack", id: "i", offset: 0, limit: MiB, received: 0 });
  await first;
  socket.serverSends({ type: "stdin.ack", id: "i", offset: 0, limit: MiB, contended: true });
  await sentCount(socket, "i", 3);
  expect(stdinSent(socket, "i").slice(2)).toEqual([{ type: "stdin", id: "i", credit: true }]);
  const second = handle.write("de");
  await settle();
  expect(stdinSent(socket, "i")).toHaveLength(3);
  socket.serverSends({ type: "stdin.ack", id: "i", offset: 0, limit: 3 + 10, received: 3 });
  await second;
  expect(stdinSent(socket, "i").slice(3)).toEqual([{ type: "stdin", id: "i", data: 2, encoding: "base64" }]);
});

test("a write out of credit while another writer waits gives back what is left before it waits", async () => {
  const { socket, session } = await connectFake();
  const handle = session.exec(["cat"], { id: "o", stdin: true });
  socket.serverSends({ type: "started", id: "o", pid: 1 });
  const writing = handle.write(new Uint8Array(MiB));
  await sentCount(socket, "o", 1);
  socket.serverSends({ type: "stdin.ack", id: "o", offset: 0, limit: 512 * KiB, received: 0 });
  socket.serverSends({ type: "stdin.ack", id: "o", offset: 0, limit: 512 * KiB, contended: true });
  await sentCount(socket, "o", 4);
  await settle();
  expect(stdinSent(socket, "o").slice(1)).toEqual([
    { type: "stdin", id: "o", data: 256 * KiB, encoding: "base64" },
    { type: "stdin", id: "o", data: 256 * KiB, encoding: "base64" },
    { type: "stdin", id: "o", credit: true },
  ]);
  socket.serverSends({ type: "stdin.ack", id: "o", offset: 0, limit: 2 * MiB, received: 512 * KiB });
  await writing;
  expect(stdinSent(socket, "o").slice(4)).toEqual([
    { type: "stdin", id: "o", data: 256 * KiB, encoding: "base64" },
    { type: "stdin", id: "o", data: 256 * KiB, encoding: "base64" },
  ]);
});

test("against a server that predates credit, a refused request is no error: writes pace by stdin.ack offsets as before", async () => {
  const { socket, session } = await connectFake();
  const handle = session.attach("old", {}, {});
  const writing = handle.write(new Uint8Array(3 * MiB));
  await sentCount(socket, "old", 1);
  expect(stdinSent(socket, "old")).toEqual([{ type: "stdin", id: "old", credit: true }]);
  socket.serverSends({ type: "error", id: "old", code: "bad_message", message: PRE_CREDIT_REFUSAL });
  await sentCount(socket, "old", 9);
  await settle();
  // An attached handle does not know what came before its bytes: 2 MiB until its first ack.
  expect(stdinSent(socket, "old").slice(1).reduce((sum, message) => sum + (message["data"] as number), 0)).toBe(2 * MiB);
  socket.serverSends({ type: "stdin.ack", id: "old", offset: 5 * MiB });
  socket.serverSends({ type: "stdin.ack", id: "old", offset: 7 * MiB });
  await writing;
  expect(handle.errors).toEqual([]);
  expect(stdinSent(socket, "old").slice(1).reduce((sum, message) => sum + (message["data"] as number), 0)).toBe(3 * MiB);
});

test("StdinCredit: the answer's count replaces the writer's own, so a refused message does not leave it short for good", () => {
  const credit = new StdinCredit(false);
  expect({ unasked: credit.unasked, available: credit.available() }).toEqual({ unasked: true, available: 0 });
  credit.asked();
  credit.acked({ offset: 0, limit: MiB, received: 0 });
  credit.sent(MiB);
  expect(credit.available()).toBe(0);
  // 256 KiB of that were refused (a writer without credit filled the bound): the server counts 768 KiB.
  credit.asked();
  credit.acked({ offset: 0, limit: 768 * KiB + MiB, received: 768 * KiB });
  expect(credit.available()).toBe(MiB);
  credit.restart();
  expect({ unasked: credit.unasked, available: credit.available(), unused: credit.unusedBytes }).toEqual({ unasked: true, available: 0, unused: 0 });
});
