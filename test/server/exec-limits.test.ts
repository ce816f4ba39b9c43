import { expect, test } from "bun:test";
import { effectiveMaxOutputBytes, effectiveTimeoutMs } from "../../src/server/exec-limits.ts";
import { DEFAULT_LIMITS } from "../../src/server/options.ts";

test("an exec's timeout: its own, else the server default; 0 means the cap; never above the cap", () => {
  const capped = { ...DEFAULT_LIMITS, execTimeoutMs: 5000, maxExecTimeoutMs: 60_000 };
  expect(effectiveTimeoutMs(undefined, capped)).toBe(5000);
  expect(effectiveTimeoutMs(1000, capped)).toBe(1000);
  expect(effectiveTimeoutMs(0, capped)).toBe(60_000);
  expect(effectiveTimeoutMs(600_000, capped)).toBe(60_000);
  expect(effectiveTimeoutMs(undefined, DEFAULT_LIMITS)).toBe(0);
});

test("maxOutputBytes: the lower of the exec's and the server's; Infinity when neither is set", () => {
  expect(effectiveMaxOutputBytes(undefined, DEFAULT_LIMITS)).toBe(Infinity);
  expect(effectiveMaxOutputBytes(100, { ...DEFAULT_LIMITS, maxOutputBytes: 50 })).toBe(50);
  expect(effectiveMaxOutputBytes(undefined, { ...DEFAULT_LIMITS, maxOutputBytes: 50 })).toBe(50);
  expect(effectiveMaxOutputBytes(10, { ...DEFAULT_LIMITS, maxOutputBytes: 50 })).toBe(10);
});
