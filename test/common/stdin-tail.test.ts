import { describe, expect, test } from "bun:test";
import { StdinTail } from "../../src/common/stdin-tail.ts";
import { patternedBytes } from "../helpers/patterned-bytes.ts";

const joined = (views: Uint8Array[] | undefined) => (views ? Buffer.concat(views) : undefined);

describe("StdinTail", () => {
  test("gives back exactly the bytes from any held offset to the end, across blocks and writes of every size", () => {
    const data = patternedBytes(300_000, 3);
    const tail = new StdinTail(1 << 30);
    for (let at = 0, size = 1; at < data.byteLength; at += size, size = (size * 7) % 70_001) tail.append(data.subarray(at, at + size));
    expect(tail.written).toBe(data.byteLength);
    for (const offset of [0, 1, 65_535, 65_536, 65_537, 200_000, 299_999, 300_000]) expect(joined(tail.from(offset))).toEqual(Buffer.from(data.subarray(offset)));
  });

  test("keeps no more than keptBytes (and the block they start in) behind what was handed over", () => {
    const tail = new StdinTail(100_000);
    const data = patternedBytes(1_000_000, 5);
    for (let at = 0; at < data.byteLength; at += 10_000) {
      tail.append(data.subarray(at, at + 10_000));
      tail.handedOver();
    }
    expect(tail.start).toBe(900_000);
    expect(joined(tail.from(900_000))).toEqual(Buffer.from(data.subarray(900_000)));
    // Offsets before what is held, or past the end, cannot be given.
    expect(tail.from(899_999)).toBeUndefined();
    expect(tail.from(1_000_001)).toBeUndefined();
  });

  test("forgets what the server has, and views handed out earlier stay true as it goes on", () => {
    const tail = new StdinTail(1 << 30);
    tail.append(patternedBytes(70_000, 1));
    const early = joined(tail.from(60_000));
    const view = tail.from(60_000)!;
    tail.forgetBefore(65_000);
    tail.append(patternedBytes(70_000, 2));
    expect(joined(view)).toEqual(early!);
    expect(tail.start).toBe(65_000);
    expect(joined(tail.from(65_000))).toEqual(Buffer.concat([patternedBytes(70_000, 1).subarray(65_000), patternedBytes(70_000, 2)]));
  });
});
