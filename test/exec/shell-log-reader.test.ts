import { describe, expect, test } from "bun:test";
import { OutputLog } from "../../src/exec/output-log.ts";
import type { ExecLogs } from "../../src/exec/run-exec.ts";
import { ShellCommandOutput } from "../../src/exec/shell-command-output.ts";
import { createShellLogReader } from "../../src/exec/shell-log-reader.ts";

const READY = "r".repeat(32);
const MARKER = "m".repeat(32);
const encode = (text: string) => new TextEncoder().encode(text);

function createLogs(capacityBytes = 1024 * 1024): ExecLogs {
  return { stdout: new OutputLog(capacityBytes), stderr: new OutputLog(capacityBytes) };
}

/** What `log` still holds, as text. */
function textOf(log: OutputLog): string {
  let text = "";
  for (let offset = log.start, chunk = log.read(offset, Infinity); chunk; offset += chunk.bytes.length, chunk = log.read(offset, Infinity)) {
    text += new TextDecoder().decode(chunk.bytes);
  }
  return text;
}

describe("createShellLogReader", () => {
  test("reads stdout up to the ready marker, and gives what came before it to the first command", () => {
    const shellLogs = createLogs();
    let readies = 0;
    const reader = createShellLogReader(shellLogs, READY, () => readies++);
    shellLogs.stdout.append(encode("early "));
    expect(reader.readUntilReady()).toBe(false);
    shellLogs.stdout.append(encode(`${READY}out${MARKER}0\0/ws\0next`));
    shellLogs.stderr.append(encode(`err${MARKER}next`));
    expect(reader.readUntilReady()).toBe(true);
    expect(reader.readUntilReady()).toBe(true);
    expect(readies).toBe(1);

    const into = createLogs();
    const output = new ShellCommandOutput(MARKER, into, Infinity, () => {});
    reader.pumpInto(output, () => {});
    expect(output.complete).toBe(true);
    expect(output.trailer).toEqual({ status: 0, cwd: "/ws" });
    expect({ stdout: textOf(into.stdout), stderr: textOf(into.stderr) }).toEqual({ stdout: "early out", stderr: "err" });
  });

  test("is ready without a word when the shell's stdout ends before its marker", () => {
    const shellLogs = createLogs();
    let readies = 0;
    const reader = createShellLogReader(shellLogs, READY, () => readies++);
    shellLogs.stdout.append(encode("bunker: a persistent shell needs bash 4.1"));
    shellLogs.stdout.finish();
    expect(reader.readUntilReady()).toBe(true);
    expect(readies).toBe(0);
  });

  test("takes no more than the command's log has room for, and calls onRoom once it has more", async () => {
    const shellLogs = createLogs();
    const reader = createShellLogReader(shellLogs, READY, () => {});
    shellLogs.stdout.append(encode(`${READY}${"x".repeat(300)}${MARKER}0\0/\0`));
    shellLogs.stderr.append(encode(MARKER));
    reader.readUntilReady();
    const into = createLogs(100);
    const consumer = { position: 0 };
    into.stdout.addReader(consumer);
    // A client that has not read: the command's log is full.
    into.stdout.append(encode("y".repeat(200)));
    const output = new ShellCommandOutput(MARKER, into, Infinity, () => {});
    let rooms = 0;
    const roomCame = new Promise<void>((resolve) => reader.pumpInto(output, () => resolve(void rooms++)));
    expect(output.complete).toBe(false);
    consumer.position = into.stdout.end;
    into.stdout.readerMoved();
    await roomCame;
    expect(rooms).toBe(1);
    reader.pumpInto(output, () => {});
    expect(output.complete).toBe(true);
    expect(into.stdout.end).toBe(500);
    expect(textOf(into.stdout)).toEndWith("x".repeat(300));
  });
});
