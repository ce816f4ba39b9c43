/** The libc calls through bun:ffi (src/common/libc.ts), and the signals sent through them (process-tree.ts). */
import { describe, expect, test } from "bun:test";
import { closeSync, fstatSync, readSync, writeSync } from "node:fs";
import { libc } from "../../src/common/libc.ts";
import { signalProcessGroup, signalQuietly } from "../../src/exec/process-tree.ts";
import { openBlockingPipe, openPipe } from "../../src/exec/os-pipe.ts";

describe.skipIf(process.platform !== "linux")("libc through bun:ffi", () => {
  test("loads here (Linux, glibc)", () => {
    expect(libc()).not.toBeNull();
  });

  test("kill returns -1 for a process that does not exist, and 0 for one that does, without throwing", () => {
    const calls = libc()!;
    // A pid above pid_max cannot exist.
    expect(calls.kill(4_194_305, 0)).toBe(-1);
    expect(calls.kill(process.pid, 0)).toBe(0);
  });

  test("signalQuietly delivers a signal to a live process, and says nothing for a gone one or an empty group", async () => {
    const proc = Bun.spawn(["sleep", "30"], { stdio: ["ignore", "ignore", "ignore"] });
    signalQuietly(proc.pid, "SIGTERM");
    expect(await proc.exited).toBe(143);
    expect(proc.signalCode).toBe("SIGTERM");
    expect(() => signalQuietly(proc.pid, "SIGKILL")).not.toThrow();
    expect(() => signalProcessGroup(proc.pid, "SIGKILL")).not.toThrow();
  });

  test("signalProcessGroup reaches every process of the group", async () => {
    const proc = Bun.spawn(["sh", "-c", "sleep 30 & sleep 30 & echo started; wait"], { stdio: ["ignore", "pipe", "ignore"], detached: true });
    const reader = proc.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("started\n");
    signalProcessGroup(proc.pid, "SIGKILL");
    expect(await proc.exited).toBe(137);
    // Its stdout ends only when every process that held it (both sleeps) is gone.
    expect((await reader.read()).done).toBe(true);
  });

  test("waitReadable: false at the timeout on an empty pipe, true once it holds a byte or has ended", () => {
    const pipe = openBlockingPipe()!;
    try {
      expect(libc()!.waitReadable(pipe.read, 10)).toBe(false);
      writeSync(pipe.write, "x");
      expect(libc()!.waitReadable(pipe.read, 10)).toBe(true);
      readSync(pipe.read, new Uint8Array(1));
      closeSync(pipe.write);
      expect(libc()!.waitReadable(pipe.read, 10)).toBe(true);
    } finally {
      closeSync(pipe.read);
    }
  });

  test("pipes: a non-blocking end for the server's side, blocking ends for the wait on netns", () => {
    const pipe = openPipe("read")!;
    const blocking = openBlockingPipe()!;
    try {
      expect(fstatSync(pipe.read).isFIFO()).toBe(true);
      // Nothing written yet: the non-blocking end says so at once.
      expect(() => readSync(pipe.read, new Uint8Array(1))).toThrow("EAGAIN");
      writeSync(blocking.write, "x");
      const got = new Uint8Array(1);
      expect(readSync(blocking.read, got)).toBe(1);
      expect(got[0]).toBe("x".charCodeAt(0));
    } finally {
      for (const fd of [pipe.read, pipe.write, blocking.read, blocking.write]) closeSync(fd);
    }
  });
});
