import { expect, test } from "bun:test";
import { summarizeCommand } from "../../src/server/command-summary.ts";

test("without a bound, the command is the request's, whole", () => {
  const cmd = "x".repeat(100_000);
  expect(summarizeCommand({ cmd })).toEqual({ cmd });
  expect(summarizeCommand({ argv: ["echo", cmd] })).toEqual({ argv: ["echo", cmd] });
});

test("a cmd within the bound is whole; a longer one keeps its first bytes and says it was cut", () => {
  expect(summarizeCommand({ cmd: "echo hi" }, 8)).toEqual({ cmd: "echo hi" });
  expect(summarizeCommand({ cmd: "12345678" }, 8)).toEqual({ cmd: "12345678" });
  expect(summarizeCommand({ cmd: "123456789" }, 8)).toEqual({ cmd: "12345678", commandTruncated: true });
});

test("the bound counts UTF-8 bytes and never cuts a character in half", () => {
  // é is 2 bytes, 😀 is 4 (two UTF-16 units).
  expect(summarizeCommand({ cmd: "éééé" }, 8)).toEqual({ cmd: "éééé" });
  expect(summarizeCommand({ cmd: "ééééé" }, 9)).toEqual({ cmd: "éééé", commandTruncated: true });
  expect(summarizeCommand({ cmd: "a😀😀" }, 8)).toEqual({ cmd: "a😀", commandTruncated: true });
  expect(summarizeCommand({ cmd: "ab😀" }, 5)).toEqual({ cmd: "ab", commandTruncated: true });
});

test("argv keeps its items in order within the bound: the one that crosses it is cut, the rest left out", () => {
  expect(summarizeCommand({ argv: ["cat", "a", "b"] }, 5)).toEqual({ argv: ["cat", "a", "b"] });
  expect(summarizeCommand({ argv: ["cat", "abcdef", "b"] }, 6)).toEqual({ argv: ["cat", "abc"], commandTruncated: true });
  // An item that would keep nothing is left out with the rest (an empty one fits, even with no room).
  expect(summarizeCommand({ argv: ["cat", "abc", "d"] }, 6)).toEqual({ argv: ["cat", "abc"], commandTruncated: true });
  expect(summarizeCommand({ argv: ["cat", "", "x"] }, 3)).toEqual({ argv: ["cat", ""], commandTruncated: true });
  // The program itself is always named, cut if it has to be.
  expect(summarizeCommand({ argv: ["/a/very/long/path", "x"] }, 4)).toEqual({ argv: ["/a/v"], commandTruncated: true });
});
