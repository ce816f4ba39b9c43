// Stdin credit on the wire (docs/PROTOCOL.md, stdin and stdin.ack), message by message, against a
// real server: the answer to `credit: true`, the limit growing as a socket uses it, a second writer
// that finds no room, the holder asked to give it back, and a socket that leaves instead.
import { describe, expect, test } from "bun:test";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { MAX_STDIN_CREDIT_WRITERS } from "../../src/protocol/limits.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { replyOf, roundTrip } from "../helpers/round-trip.ts";
import { useSharedServer } from "../helpers/shared-server.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

const MiB = 1024 * 1024;
/** One stdin message's bytes: larger than a pipe holds, so that the command's pipe never takes any of a piece. */
const PIECE_BYTES = 512 * 1024;
const piece = Buffer.alloc(PIECE_BYTES, "a").toString("base64");

function nextAck(client: TestClient, id: string): Promise<ServerMessage> {
  return client.next((m) => m.type === "stdin.ack" && m.id === id);
}

function sendPieces(client: TestClient, id: string, count: number): void {
  for (let index = 0; index < count; index++) client.send({ type: "stdin", id, data: piece, encoding: "base64" });
}

/** Nothing more for `id` arrived: no ack, no error. */
async function quiet(client: TestClient, id: string): Promise<void> {
  await roundTrip(client);
  expect(client.takeQueued((m) => "id" in m && m.id === id && m.type !== "output")).toEqual([]);
}

describe.skipIf(noBwrap)("stdin credit", () => {
  const shared = useSharedServer();

  /** Two sockets of one new named session, and an exec of the first that never reads its stdin. */
  async function twoWriters(id: string) {
    const name = `credit-${crypto.randomUUID()}`;
    const first = await connect(shared.server, { query: { name } });
    const second = await connect(shared.server, { query: { name } });
    first.send({ type: "exec", id, argv: ["sh", "-c", "exec sleep 4545"], stdin: true });
    await first.next((m) => m.type === "started" && m.id === id);
    return { first, second };
  }

  /** The first socket takes credit and uses it until it holds 4.5 MiB unused beside 3.5 MiB waiting. */
  async function fillAsOneWriter(client: TestClient, id: string): Promise<void> {
    client.send({ type: "stdin", id, credit: true });
    expect(await nextAck(client, id)).toEqual({ type: "stdin.ack", id, offset: 0, limit: MiB, received: 0 });
    // Each time it has used half its credit, its window doubles: 1, 2, 4, then 8 MiB (all of the bound).
    sendPieces(client, id, 1);
    expect(await nextAck(client, id)).toEqual({ type: "stdin.ack", id, offset: 0, limit: 0.5 * MiB + 2 * MiB });
    sendPieces(client, id, 2);
    expect(await nextAck(client, id)).toEqual({ type: "stdin.ack", id, offset: 0, limit: 1.5 * MiB + 4 * MiB });
    sendPieces(client, id, 4);
    expect(await nextAck(client, id)).toEqual({ type: "stdin.ack", id, offset: 0, limit: 8 * MiB });
  }

  test("the answer to credit: true counts what the socket wrote before, and leaves room for what waits", async () => {
    const id = "counted";
    shared.client.send({ type: "exec", id, argv: ["sh", "-c", "exec sleep 4545"], stdin: true });
    await shared.client.next((m) => m.type === "started" && m.id === id);
    sendPieces(shared.client, id, 3);
    shared.client.send({ type: "stdin", id, credit: true });
    expect(await nextAck(shared.client, id)).toEqual({ type: "stdin.ack", id, offset: 0, limit: 1.5 * MiB + MiB, received: 1.5 * MiB });
    await quiet(shared.client, id);
    shared.client.send({ type: "signal", id, signal: "SIGKILL" });
    expect((await shared.client.runToExit(id)).errors).toEqual([]);
  });

  /** Two writers, the first holding all the room: the second's `credit: true` gets limit 0. */
  async function withNoRoomForSecond(id: string) {
    const { first, second } = await twoWriters(id);
    await fillAsOneWriter(first, id);
    second.send({ type: "stdin", id, credit: true });
    expect(await nextAck(second, id)).toEqual({ type: "stdin.ack", id, offset: 0, limit: 0, received: 0 });
    return { first, second };
  }

  test("a second writer that finds no room gets limit 0, the holder is asked for its credit back, and giving it back shares it", async () => {
    const id = "shared-room";
    const { first, second } = await withNoRoomForSecond(id);
    // 4.5 MiB unused is past the first writer's share now (4 MiB of two).
    expect(await nextAck(first, id)).toEqual({ type: "stdin.ack", id, offset: 0, limit: 8 * MiB, contended: true });
    first.send({ type: "stdin", id, credit: true });
    expect(await nextAck(first, id)).toEqual({ type: "stdin.ack", id, offset: 0, limit: 3.5 * MiB + MiB, received: 3.5 * MiB });
    expect(await nextAck(second, id)).toEqual({ type: "stdin.ack", id, offset: 0, limit: MiB });
    // What waits (3.5 MiB) and both limits unused (1 MiB each) stay within 8 MiB: both may use all of theirs.
    sendPieces(first, id, 2);
    sendPieces(second, id, 2);
    for (const client of [first, second]) {
      await roundTrip(client);
      expect(client.takeQueued((m) => m.type === "error")).toEqual([]);
    }
    first.send({ type: "signal", id, signal: "SIGKILL" });
    expect((await first.runToExit(id)).errors).toEqual([]);
    await first[Symbol.asyncDispose]();
    await second[Symbol.asyncDispose]();
  });

  test("a socket that leaves gives the credit it did not use to the writer that waits", async () => {
    const id = "left-room";
    const { first, second } = await withNoRoomForSecond(id);
    await first[Symbol.asyncDispose]();
    expect(await nextAck(second, id)).toEqual({ type: "stdin.ack", id, offset: 0, limit: MiB });
    second.send({ type: "signal", id, signal: "SIGKILL" });
    expect((await second.runToExit(id)).errors).toEqual([]);
    await second[Symbol.asyncDispose]();
  });

  test("credit: true to an exec without stdin is invalid_state, as any stdin is", async () => {
    const id = "no-stdin";
    shared.client.send({ type: "exec", id, argv: ["sleep", "30"] });
    await shared.client.next((m) => m.type === "started" && m.id === id);
    shared.client.send({ type: "stdin", id, credit: true });
    expect(await replyOf(shared.client, id)).toEqual({
      type: "error",
      id,
      code: "invalid_state",
      message: `exec "${id}" takes no stdin: it was started without stdin: true, or its stdin has ended`,
    });
    shared.client.send({ type: "signal", id, signal: "SIGKILL" });
    await shared.client.runToExit(id);
  });

  test(`at most ${MAX_STDIN_CREDIT_WRITERS} sockets hold credit for one exec: one more is limit_exceeded, the others go on`, async () => {
    const name = `credit-cap-${crypto.randomUUID()}`;
    const id = "crowded";
    const sockets = await Promise.all(Array.from({ length: MAX_STDIN_CREDIT_WRITERS + 1 }, () => connect(shared.server, { query: { name } })));
    const [starter] = sockets;
    starter!.send({ type: "exec", id, argv: ["sh", "-c", "exec sleep 4545"], stdin: true });
    await starter!.next((m) => m.type === "started" && m.id === id);
    for (const socket of sockets.slice(0, MAX_STDIN_CREDIT_WRITERS)) {
      socket.send({ type: "stdin", id, credit: true });
      expect(await nextAck(socket, id)).toMatchObject({ type: "stdin.ack", id, received: 0 });
    }
    const extra = sockets[MAX_STDIN_CREDIT_WRITERS]!;
    extra.send({ type: "stdin", id, credit: true });
    expect(await extra.next((m) => "id" in m && m.id === id && m.type === "error")).toEqual({
      type: "error",
      id,
      code: "limit_exceeded",
      message: `exec "${id}" already has ${MAX_STDIN_CREDIT_WRITERS} sockets with stdin credit, the most it may`,
    });
    // One that leaves makes a place.
    await sockets[1]![Symbol.asyncDispose]();
    await roundTrip(starter!);
    extra.send({ type: "stdin", id, credit: true });
    expect(await nextAck(extra, id)).toMatchObject({ type: "stdin.ack", id, received: 0 });
    starter!.send({ type: "signal", id, signal: "SIGKILL" });
    await starter!.runToExit(id);
    for (const socket of [starter!, ...sockets.slice(2)]) await socket[Symbol.asyncDispose]();
  });
});
