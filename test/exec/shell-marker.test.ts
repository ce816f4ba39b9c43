import { describe, expect, test } from "bun:test";
import { OutputLog } from "../../src/exec/output-log.ts";
import { ShellCommandOutput } from "../../src/exec/shell-command-output.ts";
import { MarkerScanner, TrailerReader } from "../../src/exec/shell-marker.ts";

const MARKER = "0123456789abcdef0123456789abcdef";
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

/** Feeds `input` to a scanner in pieces of `size` bytes; returns what came before the marker and what was left after it. */
function scanInPieces(input: string, size: number): { before: string; after: string; found: boolean } {
  const scanner = new MarkerScanner(MARKER);
  const data = bytes(input);
  let before = "";
  for (let offset = 0; offset < data.length; offset += size) {
    const piece = data.subarray(offset, offset + size);
    const scan = scanner.feed(piece);
    before += text(scan.before);
    if (scan.consumed !== undefined) return { before, after: text(data.subarray(offset + scan.consumed)), found: true };
  }
  return { before: before + text(scanner.flush()), after: "", found: false };
}

describe("MarkerScanner", () => {
  test("finds the marker whole, or split across chunks of any size", () => {
    const input = `output before${MARKER}next command's bytes`;
    for (const size of [1, 2, 3, 7, 16, 31, 32, 33, 64, 1000]) {
      expect(scanInPieces(input, size)).toEqual({ before: "output before", after: "next command's bytes", found: true });
    }
  });

  test("gives back bytes that only looked like the start of a marker", () => {
    const almost = MARKER.slice(0, 20);
    for (const size of [1, 5, 21, 100]) {
      expect(scanInPieces(`${almost}x${almost}`, size)).toEqual({ before: `${almost}x${almost}`, after: "", found: false });
    }
  });

  test("finds a marker that follows a partial one", () => {
    const input = `${MARKER.slice(0, 10)}${MARKER}rest`;
    for (const size of [1, 4, 11, 50]) {
      expect(scanInPieces(input, size)).toEqual({ before: MARKER.slice(0, 10), after: "rest", found: true });
    }
  });

  test("does not stop at another marker", () => {
    const other = "fedcba9876543210fedcba9876543210";
    expect(scanInPieces(`a${other}b${MARKER}`, 3)).toEqual({ before: `a${other}b`, after: "", found: true });
  });
});

describe("TrailerReader", () => {
  test("reads the status and cwd, in one piece or byte by byte, and takes nothing after them", () => {
    const trailer = bytes("130\0/work/space dir\0after");
    const whole = new TrailerReader().feed(trailer);
    expect(whole).toEqual({ consumed: trailer.length - "after".length, trailer: { status: 130, cwd: "/work/space dir" } });
    const reader = new TrailerReader();
    let result: ReturnType<TrailerReader["feed"]> | undefined;
    for (let index = 0; index < trailer.length && !result?.trailer; index++) result = reader.feed(trailer.subarray(index, index + 1));
    expect(result).toEqual({ consumed: 1, trailer: { status: 130, cwd: "/work/space dir" } });
  });

  test("refuses a status that is not one", () => {
    expect(() => new TrailerReader().feed(bytes("x\0/\0"))).toThrow('the shell reported "x" as an exit status');
  });
});

describe("ShellCommandOutput", () => {
  const logs = () => ({ stdout: new OutputLog(1 << 20), stderr: new OutputLog(1 << 20) });

  test("keeps the command's bytes, and leaves what follows its end to the next command", () => {
    const into = logs();
    const output = new ShellCommandOutput(MARKER, into, Infinity, () => {});
    const stdout = bytes(`hello${MARKER}0\0/w\0background`);
    expect(output.take("stdout", stdout)).toBe(stdout.length - "background".length);
    expect(output.complete).toBe(false);
    const stderr = bytes(`oops${MARKER}later`);
    expect(output.take("stderr", stderr)).toBe(stderr.length - "later".length);
    expect(output.complete).toBe(true);
    expect(output.trailer).toEqual({ status: 0, cwd: "/w" });
    expect(output.finish()).toEqual({ stdout: 5, stderr: 4 });
    expect(text(into.stdout.read(0, 100)!.bytes)).toBe("hello");
  });

  test("keeps exactly maxOutputBytes of both streams together and calls onLimit", () => {
    const into = logs();
    let limited = 0;
    const output = new ShellCommandOutput(MARKER, into, 6, () => limited++);
    output.take("stdout", bytes("abcd"));
    output.take("stderr", bytes("efgh"));
    output.take("stdout", bytes("ijkl"));
    expect(limited).toBeGreaterThan(0);
    expect(output.waitForRoom("stdout")).toBeUndefined();
    expect(output.finish()).toEqual({ stdout: 4, stderr: 2 });
  });

  test("counts the shell as ended when a stream closes before its marker", () => {
    const into = logs();
    const output = new ShellCommandOutput(MARKER, into, Infinity, () => {});
    output.take("stdout", bytes(`partial ${MARKER.slice(0, 5)}`));
    output.end("stdout");
    output.end("stderr");
    expect(output.shellEnded).toBe(true);
    expect(output.finish().stdout).toBe(`partial ${MARKER.slice(0, 5)}`.length);
  });
});
