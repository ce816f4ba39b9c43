import { describe, expect, test } from "bun:test";
import { buildShellCommandLine, buildShellInitScript, createShellMarker, encodeAnsiCString } from "../../src/exec/shell-script.ts";

/** What bash makes of a word: runs `printf %s WORD` in a real bash. */
async function bashReads(word: string): Promise<Uint8Array> {
  const proc = Bun.spawn(["bash", "--noprofile", "--norc", "-c", `printf %s ${word}`], { stdout: "pipe", env: { LC_ALL: "C" } });
  const output = await new Response(proc.stdout).bytes();
  await proc.exited;
  return output;
}

describe("encodeAnsiCString", () => {
  test("gives bash back exactly the UTF-8 bytes of the text", async () => {
    const texts = ["plain", "it's \\ \"q\" $HOME `x` !", "line\nbreak\r\ttab", "é ✓ 😀", "\x01\x1b[31m\x7f", "\\x41", "'", "\\"];
    for (const text of texts) {
      expect(Buffer.from(await bashReads(encodeAnsiCString(text))).toString("utf8")).toBe(text);
    }
  });

  test("is one line of printable ASCII", () => {
    expect(encodeAnsiCString("a\nb'c\\d é")).toBe("$'a\\x0ab\\x27c\\x5cd \\xc3\\xa9'");
  });
});

describe("buildShellCommandLine", () => {
  test("is one line, and never holds the marker it makes bash print", () => {
    const marker = createShellMarker();
    const line = buildShellCommandLine(`echo ${"x".repeat(10)}\nif then`, marker, false);
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    expect(line).not.toContain(marker);
    expect(buildShellInitScript(marker)).not.toContain(marker);
  });

  test("clears an earlier SIGINT only when asked", () => {
    expect(buildShellCommandLine("true", createShellMarker(), true)).toContain("__bunker_interrupted=0;");
    expect(buildShellCommandLine("true", createShellMarker(), false).startsWith("{ __bunker_interrupted=0")).toBe(false);
  });
});

describe("createShellMarker", () => {
  test("is 32 hex digits, fresh each time", () => {
    const markers = new Set(Array.from({ length: 100 }, createShellMarker));
    expect(markers.size).toBe(100);
    for (const marker of markers) expect(marker).toMatch(/^[0-9a-f]{32}$/);
  });
});
