import { describe, expect, test } from "bun:test";
import { buildShellCommandRecord, buildShellInitScript, buildShellReadyLine, createShellMarker, SHELL_ARGV } from "../../src/exec/shell-script.ts";

describe("buildShellInitScript", () => {
  test("is one line, so that bash numbers each command's lines from 1, and holds no marker: the ready one comes on stdin", () => {
    const script = buildShellInitScript();
    expect(script).not.toMatch(/[\n\0]/);
    expect(script).not.toMatch(/[0-9a-f]{32}/);
    expect(SHELL_ARGV.at(-1)).toBe(script);
    expect(buildShellReadyLine("m".repeat(32))).toBe(`${"m".repeat(32)}\n`);
  });
});

describe("buildShellCommandRecord", () => {
  test("is the flag, the text as it is and a NUL, then the marker on a line of its own", () => {
    expect(buildShellCommandRecord("echo 'a'\nif then é", "m".repeat(32), false)).toBe(`0echo 'a'\nif then é\0${"m".repeat(32)}\n`);
  });

  test("clears an earlier SIGINT only when asked", () => {
    expect(buildShellCommandRecord("true", "m", true).startsWith("1true\0")).toBe(true);
    expect(buildShellCommandRecord("true", "m", false).startsWith("0true\0")).toBe(true);
  });
});

describe("createShellMarker", () => {
  test("is 32 hex digits, fresh each time", () => {
    const markers = new Set(Array.from({ length: 100 }, createShellMarker));
    expect(markers.size).toBe(100);
    for (const marker of markers) expect(marker).toMatch(/^[0-9a-f]{32}$/);
  });
});
