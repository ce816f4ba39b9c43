import { expect, test } from "bun:test";
import { completeUtf8Length, createUtf8Chunker } from "../../src/exec/utf8-chunker.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

test("completeUtf8Length holds back a cut multi-byte sequence and nothing else", () => {
  expect(completeUtf8Length(bytes(0x61, 0xe2, 0x82))).toBe(1);
  expect(completeUtf8Length(bytes(0x61, 0xe2, 0x82, 0xac))).toBe(4);
  expect(completeUtf8Length(bytes(0xf0, 0x9f, 0x98))).toBe(0);
  expect(completeUtf8Length(bytes(0x61, 0xff))).toBe(2);
  expect(completeUtf8Length(bytes())).toBe(0);
});

test("a character split across every possible boundary arrives whole, with exact byte counts", () => {
  const text = "a€b😀c";
  const encoded = new TextEncoder().encode(text);
  for (let cut = 0; cut <= encoded.length; cut++) {
    const chunker = createUtf8Chunker();
    const first = chunker.push(encoded.subarray(0, cut));
    const second = chunker.push(encoded.subarray(cut));
    const rest = chunker.flush();
    expect(first.text + second.text + rest.text).toBe(text);
    expect(first.byteLength + second.byteLength + rest.byteLength).toBe(encoded.length);
    expect(first.text.includes("\uFFFD")).toBe(false);
  }
});

test("a cut sequence at the end of the stream becomes U+FFFD on flush", () => {
  const chunker = createUtf8Chunker();
  expect(chunker.push(bytes(0x61, 0xe2, 0x82))).toEqual({ text: "a", byteLength: 1 });
  expect(chunker.flush()).toEqual({ text: "\uFFFD", byteLength: 2 });
});
