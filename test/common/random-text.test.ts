import { describe, expect, test } from "bun:test";
import { randomText } from "../../src/common/random-text.ts";

describe("randomText", () => {
  test("gives the asked number of random bytes in the asked encoding, different each time", () => {
    expect(randomText(12, "hex")).toMatch(/^[0-9a-f]{24}$/);
    expect(randomText(32, "base64url")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const seen = new Set(Array.from({ length: 100 }, () => randomText(16, "base64url")));
    expect(seen.size).toBe(100);
  });
});
