import { expect, test } from "bun:test";
import { closeReasonOf } from "../../src/server/session-request.ts";

test("a close reason fits the frame's 123 bytes, cut at a word with an ellipsis rather than mid-word", () => {
  const short = "session name is taken";
  expect(closeReasonOf(short)).toBe(short);
  const long = "no session with that id lives on this server (it ended, or it lives on another host), or the resume secret that came with it is wrong";
  expect(Buffer.byteLength(long)).toBeGreaterThan(123);
  const reason = closeReasonOf(long);
  expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
  expect(reason).toEndWith("…");
  expect(long.startsWith(reason.slice(0, -1))).toBe(true);
  expect(long[reason.length - 1]).toBe(" ");
});

test("a close reason is never cut inside a surrogate pair", () => {
  const emoji = `session name ${"😀".repeat(60)} is taken`;
  const reason = closeReasonOf(emoji);
  expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
  expect(reason.isWellFormed()).toBe(true);
  expect(reason).not.toContain("\uFFFD");
});
