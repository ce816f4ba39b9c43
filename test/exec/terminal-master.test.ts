import { expect, test } from "bun:test";
import { closeSync, openSync, readFileSync } from "node:fs";
import { openTerminal, readHeldOutput } from "../../src/exec/terminal-master.ts";

const onLinux = process.platform === "linux";

/** Whether `pid` has exited (a zombie its parent has not reaped yet), from /proc. */
const isZombie = (pid: number) => /\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));

test.skipIf(!onLinux)("reads what the kernel holds for the terminal, which Bun's reader has not delivered, once", async () => {
  const delivered: string[] = [];
  const opened = openTerminal({ cols: 80, rows: 24, data: (_terminal, bytes) => void delivered.push(new TextDecoder().decode(bytes)) });
  expect(opened.masterFd).toBeNumber();
  const proc = Bun.spawn(["printf", "held"], { terminal: opened.terminal });
  // The event loop is kept from running, as a busy server's is, so that Bun's reader cannot take the
  // output first: the exit has no event this thread could await without letting it run.
  const deadline = Date.now() + 4000;
  while (!isZombie(proc.pid) && Date.now() < deadline) Bun.sleepSync(1);
  const taken: string[] = [];
  expect(readHeldOutput(opened, (bytes) => void taken.push(new TextDecoder().decode(bytes)))).toBe(true);
  expect(taken).toEqual(["held"]);
  expect(delivered).toEqual([]);
  expect(readHeldOutput(opened, () => {})).toBe(false);
  await proc.exited;
  opened.terminal.close();
});

test.skipIf(!onLinux)("reads nothing once the terminal is closed, though its master's fd number is another file's", () => {
  const opened = openTerminal({ cols: 80, rows: 24 });
  opened.terminal.close();
  // The lowest free fds again: one of them is the old master's number, now a file that always has bytes.
  const opens: number[] = [];
  while (!opens.includes(opened.masterFd!) && opens.length < 8) opens.push(openSync("/dev/zero", "r"));
  try {
    expect(opens).toContain(opened.masterFd!);
    const taken: Uint8Array[] = [];
    expect(readHeldOutput(opened, (bytes) => void taken.push(bytes))).toBe(false);
    expect(taken).toEqual([]);
  } finally {
    for (const fd of opens) closeSync(fd);
  }
});
