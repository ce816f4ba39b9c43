import { expect, test } from "bun:test";
import { OutputBuffer } from "../../src/client/output-stream.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function createBuffer(startOffset = 0) {
  const consumed: number[] = [];
  const buffer = new OutputBuffer("stdout", startOffset, (offset) => consumed.push(offset));
  return { buffer, consumed };
}

test("yields chunks in order and ends after the buffer is read", async () => {
  const { buffer } = createBuffer();
  buffer.push(0, bytes("ab"), true);
  buffer.push(2, bytes("cd"), true);
  buffer.end();
  expect(await buffer.readAllText()).toBe("abcd");
  expect(buffer.offset).toBe(4);
});

test("waits for chunks that have not arrived yet", async () => {
  const { buffer } = createBuffer();
  const all = buffer.readAllText();
  queueMicrotask(() => {
    buffer.push(0, bytes("late"), true);
    buffer.end();
  });
  expect(await all).toBe("late");
});

test("can be read once", () => {
  const { buffer } = createBuffer();
  buffer[Symbol.asyncIterator]();
  expect(() => buffer[Symbol.asyncIterator]()).toThrow(new TypeError("stdout can be read once, and it is already being read"));
});

test("text() holds back a character split across chunks", async () => {
  const { buffer } = createBuffer();
  const euro = bytes("€");
  buffer.push(0, euro.subarray(0, 1), true);
  buffer.push(1, euro.subarray(1), true);
  buffer.end();
  const texts: string[] = [];
  for await (const text of buffer.text()) texts.push(text);
  expect(texts).toEqual(["€"]);
});

test("drops replayed bytes it holds already and cuts an overlap off exact chunks", async () => {
  const { buffer } = createBuffer();
  buffer.push(0, bytes("abc"), true);
  buffer.push(0, bytes("abc"), true);
  buffer.push(1, bytes("bcde"), true);
  buffer.end();
  expect(await buffer.readAllText()).toBe("abcde");
  expect(buffer.gaps).toEqual([]);
});

test("recognizes a replayed utf8 chunk by its offset", async () => {
  const { buffer } = createBuffer();
  buffer.push(0, bytes("\uFFFD"), false); // one raw byte that arrived as U+FFFD (three bytes)
  buffer.push(1, bytes("x"), false);
  buffer.push(1, bytes("x"), false);
  buffer.end();
  expect(await buffer.readAllText()).toBe("\uFFFDx");
  expect(buffer.gaps).toEqual([]);
});

test("records gaps, announced or not, and continues after them", async () => {
  const { buffer } = createBuffer(10);
  buffer.gap(10, 20);
  buffer.push(20, bytes("a"), true);
  buffer.push(25, bytes("b"), true);
  buffer.end();
  expect(await buffer.readAllText()).toBe("ab");
  expect(buffer.gaps).toEqual([{ from: 10, to: 20 }, { from: 21, to: 25 }]);
});

test("reports each chunk's end offset once the reader asks for the next", async () => {
  const { buffer, consumed } = createBuffer();
  buffer.push(0, bytes("ab"), true);
  buffer.push(2, bytes("cde"), true);
  const iterator = buffer[Symbol.asyncIterator]();
  await iterator.next();
  expect(consumed).toEqual([]);
  await iterator.next();
  expect(consumed).toEqual([2]);
});

test("a utf8 chunk's consumed offset is corrected by the offset of the chunk after it", async () => {
  const { buffer, consumed } = createBuffer();
  buffer.push(0, bytes("\uFFFD"), false);
  buffer.push(1, bytes("x"), false);
  buffer.end();
  await buffer.readAll();
  expect(consumed).toEqual([1, 2]);
});

test("keeps count of bytes held unread and the most it ever held", async () => {
  const { buffer } = createBuffer();
  buffer.push(0, bytes("abcd"), true);
  buffer.push(4, bytes("ef"), true);
  expect(buffer.bufferedBytes).toBe(6);
  buffer.end();
  await buffer.readAll();
  expect(buffer.bufferedBytes).toBe(0);
  expect(buffer.maxBufferedBytes).toBe(6);
});

test("discard() drops what is held and what comes, consuming it, and ends a reader", async () => {
  const { buffer, consumed } = createBuffer();
  buffer.push(0, bytes("abc"), true);
  const reading = buffer.readAll();
  await Promise.resolve();
  buffer.discard();
  buffer.push(3, bytes("de"), true);
  expect(consumed).toEqual([3, 5]);
  expect(buffer.bufferedBytes).toBe(0);
  expect((await reading).byteLength).toBeLessThanOrEqual(3);
});

test("a reader that stops early discards the rest", async () => {
  const { buffer, consumed } = createBuffer();
  buffer.push(0, bytes("ab"), true);
  buffer.push(2, bytes("cd"), true);
  for await (const _ of buffer) break;
  expect(buffer.bufferedBytes).toBe(0);
  expect(consumed).toEqual([4]);
});

test("fail() delivers what arrived, then throws", async () => {
  const { buffer } = createBuffer();
  buffer.push(0, bytes("ok"), true);
  buffer.fail(new Error("gone"));
  const seen: string[] = [];
  const reading = (async () => {
    for await (const chunk of buffer) seen.push(new TextDecoder().decode(chunk));
  })();
  await expect(reading).rejects.toThrow("gone");
  expect(seen).toEqual(["ok"]);
});
