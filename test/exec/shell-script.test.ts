import { describe, expect, test } from "bun:test";
import { buildShellCommandRecord, buildShellInitScript, createShellMarker } from "../../src/exec/shell-script.ts";

describe("buildShellInitScript", () => {
  test("is one line ended by a NUL, so that bash numbers each command's lines from 1, and never holds the marker it makes bash print", () => {
    const marker = createShellMarker();
    const script = buildShellInitScript(marker);
    expect(script.endsWith("\0")).toBe(true);
    expect(script.slice(0, -1)).not.toMatch(/[\n\0]/);
    expect(script).not.toContain(marker);
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
