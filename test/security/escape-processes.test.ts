// Escape suite: host processes, the sandbox's pid 1, and processes that try to outlive their exec
// (docs/SECURITY.md, "Escape suite").
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startEscapeFixture, type EscapeFixture } from "./helpers/escape-fixture.ts";
import { hostProcessesMatching } from "./helpers/host-probes.ts";
import { daemonize, forgeExitThroughReaperMemory, injectKeystroke, LIST_PROCESSES_SCRIPT, perl, rawSyscall, WRITE_REAPER_MEMORY } from "./helpers/perl-attempts.ts";

const PTRACE_ATTACH = 16;
const hasPs = Bun.which("ps", { PATH: "/usr/bin:/bin" }) !== null;
if (!hasPs) console.warn("escape suite: skipping the ps attempt: procps is not installed (the /proc listing still runs)");

describe.skipIf(noBwrap)("escape suite: processes", () => {
  let fixture: EscapeFixture;
  let client: TestClient;
  let other: TestClient;
  beforeAll(async () => {
    fixture = await startEscapeFixture();
    client = await fixture.connect();
    other = await fixture.connect();
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  test("/proc lists the reaper and the command itself: no host process", async () => {
    const run = await client.exec({
      id: "proc-list",
      argv: perl(LIST_PROCESSES_SCRIPT),
    });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stdout).toBe("1 reap\n2 perl\n");
  });

  // procps is not on every CI image; without it the test above covers the same ground.
  test.skipIf(!hasPs)("ps lists the reaper, the shell and ps itself", async () => {
    const run = await client.exec({ id: "ps", cmd: "ps -e -o pid=,comm=" });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stdout.trim().split("\n").map((line) => line.trim().split(/\s+/))).toEqual([["1", "reap"], ["2", "sh"], ["3", "ps"]]);
  });

  test("kill -0 <server pid> finds no such process", async () => {
    const run = await client.exec({ id: "kill0", cmd: `kill -0 ${fixture.server.pid}` });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stderr).toBe("/bin/sh: 1: kill: No such process\n\n");
  });

  test("kill -9 -1 reaches only the sandbox: the server and another session carry on", async () => {
    const run = await client.exec({ id: "kill-all", cmd: `sleep 100 & kill -9 -1; wait; echo survived; exec perl -e '${LIST_PROCESSES_SCRIPT}'` });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    // kill(-1) spares the caller and pid 1; the background sleep is gone (and reaped by wait).
    expect(run.stdout).toBe("survived\n1 reap\n2 perl\n");
    expect(fixture.server.process.exitCode).toBeNull();
    expect((await other.exec({ id: "after-kill-all", argv: ["echo", "ok"] })).stdout).toBe("ok\n");
  });

  test("ptrace(PTRACE_ATTACH) of pid 1, the reaper, is refused", async () => {
    const run = await client.exec({ id: "ptrace", argv: rawSyscall("ptrace", PTRACE_ATTACH, 1, 0, 0) });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stdout).toBe("Operation not permitted\n");
  });

  test("process_vm_writev into pid 1 is refused", async () => {
    const run = await client.exec({ id: "vm-write", argv: rawSyscall("process_vm_writev", 1, 0, 0, 0, 0, 0) });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stdout).toBe("Operation not permitted\n");
  });

  // Found by this suite and fixed: a dumpable reaper let the same uid open /proc/1/mem read-write,
  // around the ptrace seccomp rule. The reaper now makes itself non-dumpable (docs/SECURITY.md).
  test("/proc/1/mem, the reaper's memory, cannot be opened for writing", async () => {
    const run = await client.exec({ id: "proc-mem", argv: WRITE_REAPER_MEMORY });
    // It stops even earlier: pid 1's memory map is not readable either.
    expect(run.stderr).toBe("maps: Permission denied\n");
    expect(run.stdout).toBe("");
    expect(run.exit).toMatchObject({ reason: "exited" });
    expect(run.exit.code).not.toBe(0);
  });

  // As above: with /proc/1/mem writable the reaper reported "exit 0" for this exit 3.
  test.skipIf(process.arch !== "x64")("the exit the server reports is the command's own, even after it patches pid 1's code", async () => {
    const run = await client.exec({ id: "forge-mem", argv: forgeExitThroughReaperMemory(3) });
    expect(run.exit).toMatchObject({ code: 3, signal: null, reason: "exited" });
    // /proc/1/syscall needs the same access as /proc/1/mem, so a non-dumpable pid 1 stops it there.
    expect(run.stdout).toBe("syscall: Permission denied\n");
  });

  test("the reaper's wait-status fd cannot be reopened through /proc/1/fd/4 to forge an exit", async () => {
    // A record for "exit 0" would be 02 00 00 00 00 00 00 00.
    const run = await client.exec({ id: "forge", cmd: "printf '\\002\\000\\000\\000\\000\\000\\000\\000' > /proc/1/fd/4; exit 3" });
    // A non-dumpable pid 1's fds are root's; before, the reopen failed as a socket (ENXIO).
    expect(run.stderr).toBe("/bin/sh: 1: cannot create /proc/1/fd/4: Permission denied\n");
    expect(run.exit).toMatchObject({ code: 3, signal: null, reason: "exited" });
  });

  test("a setsid daemon, a double fork and nohup do not outlive their exec", async () => {
    const run = await client.exec({ id: "daemons", cmd: "setsid sleep 7301 & (sleep 7302 &); nohup sleep 7303 >/dev/null 2>&1 & echo spawned" });
    expect(run.stdout).toBe("spawned\n");
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect([7301, 7302, 7303].flatMap((seconds) => hostProcessesMatching(`sleep ${seconds}`))).toEqual([]);
  });

  test("a double-forked daemon that ignores every catchable signal does not outlive its exec", async () => {
    const run = await client.exec({ id: "stubborn", argv: daemonize(7304) });
    expect(run.stdout).toBe("daemonized\n");
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(hostProcessesMatching("sleep 7304")).toEqual([]);
  });

  test("a daemon started by an exec that times out is gone too", async () => {
    const run = await client.exec({ id: "timed-out", cmd: "setsid sleep 7305 & exec sleep 7306", timeoutMs: 300 });
    expect(run.exit).toMatchObject({ code: null, signal: "SIGTERM", reason: "timeout" });
    expect([...hostProcessesMatching("sleep 7305"), ...hostProcessesMatching("sleep 7306")]).toEqual([]);
  });

  test("/dev/tty cannot be opened: a command has no controlling terminal to type into", async () => {
    const run = await client.exec({ id: "dev-tty", argv: perl('open(my $t, "+<", "/dev/tty") or do { print "$!\\n"; exit 1 }; print "opened\\n"') });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("No such device or address\n");
  });

  test("TIOCSTI on a PTY exec's own terminal is refused", async () => {
    const run = await client.exec({ id: "tiocsti", argv: injectKeystroke(0), pty: { cols: 80, rows: 24 } });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stdout).toBe("Operation not permitted\r\n");
  });
});
