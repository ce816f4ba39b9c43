// Every base64 path of the client, byte for byte. Bun has all three (the ES2025 codec, Buffer, and
// atob/btoa), so this file checks each of them; node-runtime.test.ts checks which one Node 20 takes.
import { describe, expect, test } from "bun:test";
import { bufferBase64, nativeBase64, portableBase64, type Base64Codec } from "../../src/client/base64-codecs.ts";

const codecs = [nativeBase64, bufferBase64, portableBase64];

test("Bun has every codec, so every path is checked here", () => {
  expect(codecs.map((codec) => codec?.name)).toEqual(["native", "buffer", "portable"]);
});

/** RFC 4648, section 10. */
const VECTORS: [string, string][] = [
  ["", ""],
  ["f", "Zg=="],
  ["fo", "Zm8="],
  ["fo" + "o", "Zm9v"],
  ["foob", "Zm9vYg=="],
  ["fooba", "Zm9vYmE="],
  ["foobar", "Zm9vYmFy"],
];

/** Bytes that differ at every position and cover all 256 values. */
function patterned(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 167 + (i >> 8)) & 0xff);
}

describe.each(codecs.map((codec) => [codec!.name, codec!] as [string, Base64Codec]))("the %s codec", (_name, codec) => {
  test("encodes and decodes the RFC 4648 vectors", () => {
    for (const [text, base64] of VECTORS) {
      expect(codec.encode(new TextEncoder().encode(text))).toBe(base64);
      expect(codec.decode(base64)).toEqual(new TextEncoder().encode(text));
    }
  });

  test("round-trips every byte value at every length mod 3, and 1 MiB, as plain Uint8Arrays", () => {
    for (const length of [0, 1, 2, 3, 4, 5, 255, 256, 257, 65_535, 65_536, 1024 * 1024]) {
      const bytes = patterned(length);
      const text = codec.encode(bytes);
      expect(text).toBe(portableBase64.encode(bytes));
      const back = codec.decode(text)!;
      expect(back.constructor).toBe(Uint8Array);
      expect(back).toEqual(bytes);
    }
  });

  test("encodes only a view's own bytes, at any offset into a larger buffer", () => {
    const whole = patterned(4096);
    for (const [start, end] of [[1, 2], [3, 4000], [4095, 4096], [7, 7]] as const) {
      const view = whole.subarray(start, end);
      expect(codec.decode(codec.encode(view))).toEqual(whole.slice(start, end));
    }
  });

  test("a decoded small chunk owns its memory: its buffer holds exactly its bytes", () => {
    const back = codec.decode("Zm9vYmFy")!;
    expect(back.byteOffset).toBe(0);
    expect(back.buffer.byteLength).toBe(6);
  });

  test("refuses and accepts exactly what atob does", () => {
    const inputs = ["Zg==", "Zg", "Zg=", "Z", "Zm9v!", "Zm-v", "Zm_v", "Zm9v Yg==", "Zm9vYmFy\n", "Zg==Zg==", "====", "=", "Zm9v=", "YQ"];
    const verdicts = inputs.map((input) => [input, codec.decode(input)]);
    expect(verdicts).toEqual(inputs.map((input) => [input, portableBase64.decode(input)]));
    expect(portableBase64.decode("Zm-v")).toBeUndefined();
  });
});
