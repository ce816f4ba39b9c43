import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildReaperElf,
  decodeReaperRecords,
  describeWaitStatus,
  installReaper,
  reaperArchFor,
  type ReaperArch,
} from "../../src/sandbox/reaper.ts";

const hostArch = reaperArchFor(process.arch);
const bwrapPath = Bun.which("bwrap");
const qemuPath = Bun.which("qemu-aarch64");
const bwrapSkipReason = !hostArch
  ? `no reaper for ${process.arch}`
  : !bwrapPath && process.env.REQUIRE_SANDBOX !== "1"
    ? "bwrap not installed (set REQUIRE_SANDBOX=1 to fail instead)"
    : undefined;
if (bwrapSkipReason) console.log(`skipping reaper-in-bwrap tests: ${bwrapSkipReason}`);
if (!qemuPath) console.log("skipping arm64 reaper tests: qemu-aarch64 not installed");

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bunker-reaper-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Builds a record as the reaper writes it: u32 kind, i32 value, little-endian. */
function record(kind: number, value: number): number[] {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setUint32(0, kind, true);
  new DataView(bytes.buffer).setInt32(4, value, true);
  return [...bytes];
}

async function readToEnd(fd: number): Promise<Uint8Array> {
  return new Response(Bun.file(fd).stream()).bytes();
}

/** Spawns argv with fds 3 and 4 as pipes and collects everything it wrote, and how it ended. */
async function runWithRecordPipe(argv: string[]) {
  const proc = Bun.spawn(argv, { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"] });
  const [, , , jsonStatusFd, recordFd] = proc.stdio;
  if (typeof jsonStatusFd !== "number" || typeof recordFd !== "number") throw new Error("fds 3 and 4 are not pipes");
  try {
    const [stdout, stderr, , records, exitCode] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      readToEnd(jsonStatusFd),
      readToEnd(recordFd),
      proc.exited,
    ]);
    return { exitCode, stdout, stderr, records: decodeReaperRecords(records) };
  } finally {
    closeSync(jsonStatusFd);
    closeSync(recordFd);
  }
}

function runInBwrap(reaperPath: string, command: string[]) {
  return runWithRecordPipe([
    "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
    "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
    "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin", "--ro-bind", "/etc", "/etc",
    "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev", "--ro-bind", reaperPath, "/run/bunker/reap",
    "--cap-drop", "ALL", "--json-status-fd", "3", "/run/bunker/reap", ...command,
  ]);
}

describe("reaper in bwrap", () => {
  const sh = (script: string) => runInBwrap(installReaper(dir, hostArch as ReaperArch), ["/bin/sh", "-c", script]);

  test.skipIf(bwrapSkipReason !== undefined).each([
    ["exit 0", 0, { code: 0, signal: null }],
    ["exit 3", 3, { code: 3, signal: null }],
    ["exit 137", 137, { code: 137, signal: null }],
    ["kill -9 $$", 137, { code: null, signal: "SIGKILL" }],
    ["kill -TERM $$", 143, { code: null, signal: "SIGTERM" }],
  ])("reports the true wait status of `%s` (bwrap exits %d)", async (script, bwrapExit, facts) => {
    const run = await sh(script);
    expect(run.exitCode).toBe(bwrapExit);
    expect(run.records.execErrno).toBeUndefined();
    expect(describeWaitStatus(run.records.waitStatus ?? -1)).toEqual(facts);
  });

  test.skipIf(bwrapSkipReason !== undefined)("reports ENOENT and exits 127 for a program that does not exist", async () => {
    const run = await runInBwrap(installReaper(dir, hostArch as ReaperArch), ["/nonexistent", "arg"]);
    expect(run).toEqual({ exitCode: 127, stdout: "", stderr: "", records: { execErrno: 2, waitStatus: 127 << 8 } });
  });

  test.skipIf(bwrapSkipReason !== undefined)("passes stdout and stderr through untouched", async () => {
    const run = await sh("echo out; echo err >&2");
    expect(run).toEqual({ exitCode: 0, stdout: "out\n", stderr: "err\n", records: { waitStatus: 0 } });
  });

  test.skipIf(bwrapSkipReason !== undefined)("gives the command only fds 0, 1 and 2", async () => {
    expect((await sh("ls /proc/self/fd")).stdout).toBe("0\n1\n2\n3\n"); // 3: ls reading the directory
  });

  test.skipIf(bwrapSkipReason !== undefined)("starts the command with no signals blocked", async () => {
    expect((await sh("grep ^SigBlk: /proc/self/status")).stdout).toBe("SigBlk:\t0000000000000000\n");
  });

  test.skipIf(bwrapSkipReason !== undefined)("holds SIGINT and SIGTERM pending instead of dying while the command runs", async () => {
    // A reaper that did not block them would die on its way out of wait4, before writing a record.
    const run = await sh('kill -INT $PPID; kill -TERM $PPID; grep ^ShdPnd: /proc/$PPID/status; echo alive');
    expect(run).toEqual({ exitCode: 0, stdout: "ShdPnd:\t0000000000004002\nalive\n", stderr: "", records: { waitStatus: 0 } });
  });
});

describe("reaper for arm64 under qemu-aarch64", () => {
  // qemu passes execve to the host kernel, which runs the host's /bin/sh natively.
  const qemu = (command: string[]) => runWithRecordPipe([qemuPath ?? "qemu-aarch64", installReaper(dir, "arm64"), ...command]);

  test.skipIf(!qemuPath)("reports an exit code", async () => {
    expect(await qemu(["/bin/sh", "-c", "exit 5"])).toEqual({ exitCode: 5, stdout: "", stderr: "", records: { waitStatus: 5 << 8 } });
  });

  test.skipIf(!qemuPath)("reports a signal", async () => {
    const run = await qemu(["/bin/sh", "-c", "kill -KILL $$"]);
    expect(run.exitCode).toBe(137);
    expect(run.records).toEqual({ waitStatus: 9 });
  });

  test.skipIf(!qemuPath)("reports a failed execve", async () => {
    expect((await qemu(["/nonexistent"])).records).toEqual({ execErrno: 2, waitStatus: 127 << 8 });
  });
});

describe("reaper without a sandbox", () => {
  test.skipIf(!hostArch)("exits 127 without a record when given no program", async () => {
    const run = await runWithRecordPipe([installReaper(dir, hostArch as ReaperArch)]);
    expect(run).toEqual({ exitCode: 127, stdout: "", stderr: "", records: {} });
  });
});

describe("buildReaperElf", () => {
  test.each([["x64", 62], ["arm64", 183]] as const)("builds a loadable ELF64 for %s (e_machine %d)", (arch, machine) => {
    const elf = buildReaperElf(arch);
    const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
    expect([...elf.subarray(0, 7)]).toEqual([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    expect(view.getUint16(18, true)).toBe(machine);
    expect(view.getBigUint64(24, true)).toBe(0x400000n + 176n); // entry right after three headers
    expect(view.getUint32(64 + 4, true)).toBe(5); // PT_LOAD is R+X only
    expect(view.getBigUint64(64 + 32, true)).toBe(BigInt(elf.length)); // and covers the whole file
    expect(buildReaperElf(arch)).toEqual(elf);
  });

  test("installReaper writes an executable, read-only file and leaves no temporary file", () => {
    const path = installReaper(dir, "arm64");
    expect(installReaper(dir, "arm64")).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o555);
    expect([...readFileSync(path)]).toEqual([...buildReaperElf("arm64")]);
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  test("reaperArchFor knows x64 and arm64 only", () => {
    expect([reaperArchFor("x64"), reaperArchFor("arm64"), reaperArchFor("ia32")]).toEqual(["x64", "arm64", undefined]);
  });
});

describe("decodeReaperRecords", () => {
  test("decodes an exec errno and a wait status", () => {
    expect(decodeReaperRecords(new Uint8Array([...record(1, 2), ...record(2, 127 << 8)]))).toEqual({ execErrno: 2, waitStatus: 127 << 8 });
  });

  test("ignores unknown kinds and a trailing partial record", () => {
    expect(decodeReaperRecords(new Uint8Array([...record(7, 1), ...record(2, 9), 1, 0, 0]))).toEqual({ waitStatus: 9 });
  });

  test("reads a view that starts inside a larger buffer", () => {
    expect(decodeReaperRecords(new Uint8Array([0, 0, 0, ...record(2, 3 << 8)]).subarray(3))).toEqual({ waitStatus: 3 << 8 });
  });

  test("returns no facts for no bytes", () => {
    expect(decodeReaperRecords(new Uint8Array())).toEqual({});
  });
});

describe("describeWaitStatus", () => {
  test.each([
    [0, { code: 0, signal: null }],
    [137 << 8, { code: 137, signal: null }],
    [9, { code: null, signal: "SIGKILL" }],
    [6 | 0x80, { code: null, signal: "SIGABRT" }], // core dumped
    [31, { code: null, signal: "SIGSYS" }],
    [34, { code: null, signal: "SIG34" }],
  ])("describes status %d", (status, facts) => {
    expect(describeWaitStatus(status)).toEqual(facts);
  });
});
