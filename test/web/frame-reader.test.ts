import { expect, test } from "bun:test";
import { encodeOutputHeader } from "../../src/protocol/index.ts";
import { createBinaryFrameReader } from "../../src/web/frame-reader.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

test("pairs each header frame with the payload frame after it", () => {
  const reader = createBinaryFrameReader();
  expect(reader.read(encodeOutputHeader({ id: "shell-1", stream: "stdout", offset: 2 ** 40 }))).toBeUndefined();
  expect(reader.read(bytes(104, 105))).toEqual({ id: "shell-1", stream: "stdout", offset: 2 ** 40, bytes: bytes(104, 105) });
  expect(reader.read(encodeOutputHeader({ id: "shell-1", stream: "stderr", offset: 0 }))).toBeUndefined();
  expect(reader.read(bytes(0))).toEqual({ id: "shell-1", stream: "stderr", offset: 0, bytes: bytes(0) });
});

test("skips a header of an unknown kind together with its payload, and reads on", () => {
  const reader = createBinaryFrameReader();
  expect(reader.read(bytes(0x7f, 1, 2, 3))).toBeUndefined();
  expect(reader.read(encodeOutputHeader({ id: "looks-like-a-header", stream: "stdout", offset: 0 }))).toBeUndefined();
  expect(reader.read(encodeOutputHeader({ id: "x", stream: "stdout", offset: 5 }))).toBeUndefined();
  expect(reader.read(bytes(1))).toEqual({ id: "x", stream: "stdout", offset: 5, bytes: bytes(1) });
});
