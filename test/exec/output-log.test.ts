import { expect, test } from "bun:test";
import { OutputLog } from "../../src/exec/output-log.ts";

const bytes = (length: number, fill = 0x61) => new Uint8Array(length).fill(fill);

/** Everything held from `from` on, chunk by chunk. */
function readAll(log: OutputLog, from: number): number[] {
  const collected: number[] = [];
  for (let offset = Math.max(from, log.start); offset < log.end; ) {
    const chunk = log.read(offset, 1 << 20)!;
    collected.push(...chunk.bytes);
    offset += chunk.bytes.byteLength;
  }
  return collected;
}

test("with no reader the log keeps the last capacity bytes and offsets stay exact", () => {
  const log = new OutputLog(10);
  for (let i = 0; i < 5; i++) log.append(bytes(4, 0x30 + i));
  expect([log.start, log.end, log.heldBytes]).toEqual([10, 20, 10]);
  expect(log.read(0, 100)!.offset).toBe(10);
  expect(readAll(log, 0)).toEqual([0x32, 0x32, 0x33, 0x33, 0x33, 0x33, 0x34, 0x34, 0x34, 0x34]);
  expect(log.waitForRoom()).toBeUndefined();
});

test("a reader paces the producer once it is a whole capacity behind, and keeps what it has not taken", async () => {
  const log = new OutputLog(8);
  const reader = { position: 0 };
  log.addReader(reader);
  log.append(bytes(20));
  const room = log.waitForRoom();
  expect(room).toBeInstanceOf(Promise);
  expect(log.start).toBe(0);
  reader.position = 15;
  log.readerMoved();
  await room;
  expect(log.start).toBe(7);
});

test("an acknowledging reader keeps everything from its acknowledged offset", () => {
  const log = new OutputLog(4);
  const reader = { position: 0, retainFrom: 0 };
  log.addReader(reader);
  log.append(bytes(6));
  reader.position = 6;
  log.readerMoved();
  expect(log.start).toBe(0);
  reader.retainFrom = 5;
  log.readerMoved();
  expect(log.start).toBe(2);
});

test("a producer that cannot be paused never grows the log past its hard cap", () => {
  const log = new OutputLog(1024);
  log.addReader({ position: 0 });
  for (let i = 0; i < 10_000; i++) log.append(bytes(1000));
  expect(log.heldBytes).toBeLessThanOrEqual(8 * 1024 * 1024 + 1000);
  expect(log.end).toBe(10_000_000);
});

test("small writes are coalesced and stay byte-exact", () => {
  const log = new OutputLog(1 << 20);
  for (let i = 0; i < 1000; i++) log.append(new Uint8Array([i & 0xff]));
  expect(readAll(log, 0)).toEqual(Array.from({ length: 1000 }, (_, i) => i & 0xff));
});

test("a finished log holds only its bytes, not the buffer that coalesced them", () => {
  const log = new OutputLog(1 << 20);
  log.append(new TextEncoder().encode("hi\n"));
  expect(log.read(0, 1 << 20)!.bytes.buffer.byteLength).toBeGreaterThanOrEqual(4096);
  log.finish();
  const held = log.read(0, 1 << 20)!.bytes;
  expect(new TextDecoder().decode(held)).toBe("hi\n");
  expect(held.buffer.byteLength).toBe(3);
});

// Freeing: a log whose readers never keep what they read frees the buffers it owns as it drops them
// (a detached buffer reads as empty), and never one that something else may still read.
const LARGE = 32 * 1024;

test("a freeing log frees an owned chunk's buffer when it drops it, and the bytes it still holds stay exact", () => {
  const log = new OutputLog(LARGE, true);
  const first = bytes(LARGE, 0x31);
  const second = bytes(LARGE, 0x32);
  log.append(first, true);
  expect(first.byteLength).toBe(LARGE);
  log.append(second, true);
  expect(first.byteLength).toBe(0);
  expect(second.byteLength).toBe(LARGE);
  expect([log.start, log.end, log.heldBytes]).toEqual([LARGE, 2 * LARGE, LARGE]);
  expect(readAll(log, 0)).toEqual([...bytes(LARGE, 0x32)]);
});

test("a freeing log frees a small owned chunk once copied, and keeps its bytes", () => {
  const log = new OutputLog(1 << 20, true);
  const small = new TextEncoder().encode("hi\n");
  log.append(small, true);
  expect(small.byteLength).toBe(0);
  expect(new TextDecoder().decode(log.read(0, 100)!.bytes)).toBe("hi\n");
  log.finish();
  expect(new TextDecoder().decode(log.read(0, 100)!.bytes)).toBe("hi\n");
});

test("discard frees what the log owned; chunks not owned, and logs that do not free, are never touched", () => {
  const freeing = new OutputLog(1 << 20, true);
  const owned = bytes(LARGE);
  const lent = bytes(LARGE);
  freeing.append(owned, true);
  freeing.append(lent);
  freeing.discard();
  expect([owned.byteLength, lent.byteLength]).toEqual([0, LARGE]);

  // The shell's log: its commands' logs keep views of what it held.
  const shell = new OutputLog(LARGE);
  const kept = [bytes(LARGE), bytes(LARGE), new Uint8Array(3)];
  for (const chunk of kept) shell.append(chunk, true);
  shell.discard();
  expect(kept.map((chunk) => chunk.byteLength)).toEqual([LARGE, LARGE, 3]);
});

test("a partly trimmed chunk stays whole until all of it is dropped", () => {
  const log = new OutputLog(LARGE, true);
  const first = bytes(LARGE, 0x31);
  log.append(first, true);
  log.append(bytes(LARGE / 2, 0x32), true);
  expect(first.byteLength).toBe(LARGE);
  expect(log.start).toBe(LARGE / 2);
  expect(readAll(log, 0)).toEqual([...bytes(LARGE / 2, 0x31), ...bytes(LARGE / 2, 0x32)]);
});

// A session keeps a finished exec's log, counted by its bytes: a view of part of a larger buffer kept
// the whole buffer (a soak: 10.4 MB held where the budget for finished output counted 8 MiB).
test("a finished log with no reader left holds a partly trimmed chunk as a copy, and frees the buffer it owned", () => {
  const log = new OutputLog(LARGE, true);
  const first = bytes(LARGE, 0x31);
  log.append(first, true);
  log.append(bytes(LARGE / 2, 0x32), true);
  const reader = { position: log.end };
  log.addReader(reader);
  log.finish();
  // A reader may still move through it: the chunk stays a view until the last one leaves.
  expect(first.byteLength).toBe(LARGE);
  log.deleteReader(reader);
  expect(first.byteLength).toBe(0);
  const held = log.read(0, LARGE)!.bytes;
  expect(held.buffer.byteLength).toBe(LARGE / 2);
  expect(readAll(log, 0)).toEqual([...bytes(LARGE / 2, 0x31), ...bytes(LARGE / 2, 0x32)]);
  expect(log.heldBytes).toBe(LARGE);
});

test("a finished log copies a chunk that views part of a buffer it does not own, and leaves that buffer alone", () => {
  const log = new OutputLog(1 << 20, true);
  // A persistent shell's read, of which a command's log keeps a part (large enough not to be coalesced).
  const shellRead = bytes(4 * LARGE, 0x33);
  log.append(shellRead.subarray(LARGE, 2 * LARGE));
  log.finish();
  expect(shellRead.byteLength).toBe(4 * LARGE);
  expect(log.read(0, LARGE)!.bytes.buffer.byteLength).toBe(LARGE);
  expect(readAll(log, 0)).toEqual([...bytes(LARGE, 0x33)]);
});

test("a reader that does not pace (a viewer's) neither holds the producer nor keeps history, beside a pacing one or alone", () => {
  const log = new OutputLog(8);
  const agent = { position: 0 };
  const viewer: { position: number; paces: false; retainFrom?: number } = { position: 0, paces: false };
  log.addReader(viewer);
  // Alone, it holds nothing back: the producer runs free and the oldest bytes go.
  log.append(bytes(20));
  expect(log.waitForRoom()).toBeUndefined();
  expect(log.start).toBe(12);
  // Beside a pacing reader, only that one paces: the viewer far ahead lets nothing run past the agent.
  log.addReader(agent);
  agent.position = 12;
  viewer.position = 20;
  log.readerMoved();
  expect(log.waitForRoom()).toBeDefined();
  agent.position = 19;
  log.readerMoved();
  expect(log.waitForRoom()).toBeUndefined();
});

test("history a non-pacing reader acknowledged is not kept for it", () => {
  const log = new OutputLog(8);
  log.addReader({ position: 0, retainFrom: 0, paces: false });
  log.append(bytes(20));
  // A pacing reader with retainFrom 0 would have kept all 20 bytes.
  expect([log.start, log.end]).toEqual([12, 20]);
});

test("discard keeps what a reader is still to be sent, drops the rest, and the rest goes as the reader moves", () => {
  const log = new OutputLog(1024 * 1024);
  const behind = { position: 0 };
  log.addReader(behind);
  for (let i = 0; i < 8; i++) log.append(bytes(LARGE, 0x61 + i));
  log.finish();
  behind.position = 5 * LARGE + 100;
  log.discard();
  expect({ start: log.start, held: log.heldBytes }).toEqual({ start: 5 * LARGE + 100, held: 3 * LARGE - 100 });
  expect(log.read(behind.position, 10)?.bytes).toEqual(bytes(10, 0x66));
  // As the reader moves, what it was sent goes; with no reader left, everything: it stayed, up to
  // a capacity, for as long as the session remembered the exec (found by a review).
  behind.position = 6 * LARGE;
  log.readerMoved();
  expect({ start: log.start, held: log.heldBytes }).toEqual({ start: 6 * LARGE, held: 2 * LARGE });
  log.deleteReader(behind);
  expect({ start: log.start, held: log.heldBytes, end: log.end }).toEqual({ start: 8 * LARGE, held: 0, end: 8 * LARGE });
});

test("discardAll drops what readers are still to be sent too: they learn of it as a gap", () => {
  const log = new OutputLog(1024 * 1024);
  const stalled = { position: 10 };
  log.addReader(stalled);
  log.append(bytes(LARGE));
  log.finish();
  log.discardAll();
  expect({ start: log.start, held: log.heldBytes, read: log.read(stalled.position, 10) }).toEqual({ start: LARGE, held: 0, read: undefined });
});

// An acking socket (retainFrom) that stopped acknowledging while another socket of the session reads
// on kept every byte since its last ack: 400 MB of output held 318 MiB (found by an audit).
test("a stalled acking reader beside one that reads on does not make the log hold more than its hard cap", () => {
  const log = new OutputLog(1024 * 1024);
  // The agent: sent one 64 KiB window, acknowledged nothing.
  const stalled = { position: 64 * 1024, retainFrom: 0 };
  // Another full socket of the session, reading everything as it comes.
  const reader = { position: 0 };
  log.addReader(stalled);
  log.addReader(reader);
  const chunk = new Uint8Array(64 * 1024);
  for (let written = 0; written < 100 * 1024 * 1024; written += chunk.byteLength) {
    log.append(chunk);
    reader.position = log.end;
    log.readerMoved();
  }
  expect(log.heldBytes).toBeLessThanOrEqual(8 * 1024 * 1024);
});
