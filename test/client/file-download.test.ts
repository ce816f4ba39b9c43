// files.download against a scripted fake server, frame by frame: the window it asks for, the acks it
// sends as the loop consumes, and none where the server wants none.
import { expect, test } from "bun:test";
import type { BunkerError } from "../../src/client/index.ts";
import { DEFAULT_DOWNLOAD_WINDOW_BYTES } from "../../src/client/file-download.ts";
import { connectFake, type FakeSocket } from "./fake-socket.ts";

const ready = (fields: Record<string, unknown> = {}) => ({ type: "file.download.ready", id: "file:1", size: 8, offset: 0, length: 8, etag: '"e"', ...fields });

/** Sends chunks of one byte each at the given offsets. */
function sendBytes(socket: FakeSocket, offsets: number[]): void {
  for (const offset of offsets) socket.serverSends({ type: "file.download.chunk", id: "file:1", offset, data: btoa(String.fromCharCode(65 + offset)) });
}

test("asks for a 4 MiB window unless told, and a server that names none in ready gets no acks", async () => {
  const { socket, session } = await connectFake();
  const iterator = session.files.download("a.bin")[Symbol.asyncIterator]();
  expect(socket.sentOfType("file.download")).toEqual([{ type: "file.download", id: "file:1", path: "a.bin", ackWindowBytes: DEFAULT_DOWNLOAD_WINDOW_BYTES }]);
  expect(DEFAULT_DOWNLOAD_WINDOW_BYTES).toBe(4 * 1024 * 1024);
  // A server from before download acks ignores the field: its ready has none.
  socket.serverSends(ready());
  sendBytes(socket, [0, 1, 2, 3, 4, 5, 6, 7]);
  socket.serverSends({ type: "file.download.done", id: "file:1", offset: 8, bytes: 8 });
  let taken = "";
  for (let result = await iterator.next(); !result.done; result = await iterator.next()) taken += new TextDecoder().decode(result.value);
  expect(taken).toBe("ABCDEFGH");
  expect(socket.sentOfType("file.download.ack")).toEqual([]);
});

test("acks each quarter window as the loop comes back for more, counting from ready's offset, and none once done has come", async () => {
  const { socket, session } = await connectFake();
  const iterator = session.files.download("a.bin", { offset: 2, ackWindowBytes: 8 })[Symbol.asyncIterator]();
  socket.serverSends(ready({ offset: 2, length: 6, ackWindowBytes: 8 }));
  sendBytes(socket, [2, 3, 4]);
  const acks = () => socket.sentOfType("file.download.ack").map((ack) => ack["offset"]);
  // A chunk counts as consumed once the loop asks for the next one.
  await iterator.next();
  await iterator.next();
  expect(acks()).toEqual([]);
  await iterator.next();
  expect(acks()).toEqual([4]);
  sendBytes(socket, [5, 6]);
  await iterator.next();
  await iterator.next();
  expect(acks()).toEqual([4, 6]);
  // Everything was sent: the server forgets the download at done, so the client acks no more.
  sendBytes(socket, [7]);
  socket.serverSends({ type: "file.download.done", id: "file:1", offset: 8, bytes: 6 });
  expect(await iterator.next()).toMatchObject({ done: false });
  expect(await iterator.next()).toEqual({ done: true, value: undefined });
  expect(acks()).toEqual([4, 6]);
});

test("an unknown_transfer for an ack that crossed done is no one's error", async () => {
  const errors: BunkerError[] = [];
  const { socket, session } = await connectFake({ onError: (error) => errors.push(error) });
  const download = session.files.download("a.bin", { ackWindowBytes: 4 });
  const iterator = download[Symbol.asyncIterator]();
  socket.serverSends(ready({ ackWindowBytes: 4 }));
  sendBytes(socket, [0, 1]);
  await iterator.next();
  await iterator.next();
  // The ack of offset 1 was on its way while the server sent the rest and done, and forgot the download.
  expect(socket.sentOfType("file.download.ack")).toEqual([{ type: "file.download.ack", id: "file:1", offset: 1 }]);
  sendBytes(socket, [2, 3, 4, 5, 6, 7]);
  socket.serverSends({ type: "file.download.done", id: "file:1", offset: 8, bytes: 8 });
  socket.serverSends({ type: "error", id: "file:1", code: "unknown_transfer", message: 'no download with id "file:1" is open on this connection' });
  let count = 2;
  while (!(await iterator.next()).done) count++;
  expect(count).toBe(8);
  expect(errors).toEqual([]);
});

test("a bad ackWindowBytes is a TypeError when download is called, quoting the value, and nothing is sent", async () => {
  const { socket, session } = await connectFake();
  expect(() => session.files.download("a.bin", { ackWindowBytes: 0 })).toThrow(new TypeError("download: ackWindowBytes: must be >= 1 (got 0)"));
  expect(() => session.files.download("a.bin", { ackWindowBytes: 2 ** 30 })).toThrow(new TypeError("download: ackWindowBytes: must be <= 67108864 (got 1073741824)"));
  expect(() => session.files.download("a.bin", { ackWindowBytes: 1.5 })).toThrow(new TypeError("download: ackWindowBytes: must be an integer (got 1.5)"));
  expect(socket.sentOfType("file.download")).toEqual([]);
});
