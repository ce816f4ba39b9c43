import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
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
import { buildBwrapArgs, REAPER_SANDBOX_PATH } from "../../src/sandbox/bwrap.ts";
import { readSystemMounts } from "../../src/sandbox/system-mounts.ts";
import { readAvailable } from "../../src/exec/status-pipes.ts";

const hostArch = reaperArchFor(process.arch);
const bwrapPath = Bun.which("bwrap");
const qemuPath = Bun.which("qemu-aarch64");
/** Makes the reaper pid 1 of a PID namespace of its own, as under bwrap, for either architecture. */
const unsharePath = Bun.which("unshare");
/** strace shows the reaper's last syscalls (CI installs it; elsewhere that test is skipped). */
const stracePath = Bun.which("strace");
const bwrapSkipReason = !hostArch
  ? `no reaper for ${process.arch}`
  : !bwrapPath && process.env.REQUIRE_SANDBOX !== "1"
    ? "bwrap not installed (set REQUIRE_SANDBOX=1 to fail instead)"
    : undefined;
if (bwrapSkipReason) console.log(`skipping reaper-in-bwrap tests: ${bwrapSkipReason}`);
if (!qemuPath) console.log("skipping arm64 reaper tests: qemu-aarch64 not installed");

let dir = "";
let workspace = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bunker-reaper-"));
  workspace = join(dir, "workspace");
  mkdirSync(workspace);
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

/** Reads `stream` until `text` has arrived and returns what was read; the rest stays unread. */
async function readUntil(stream: ReadableStream<Uint8Array>, text: string): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  try {
    while (!seen.includes(text)) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the stream ended before ${JSON.stringify(text)}, after ${JSON.stringify(seen)}`);
      seen += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  return seen;
}

function pipeFd(fd: unknown): number {
  if (typeof fd !== "number") throw new Error("spawn did not give the extra fd as a pipe");
  return fd;
}

/** Host pids of the live processes whose command line contains `marker` (a zombie's is empty). */
function pidsWithCommandLine(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").includes(marker)) pids.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return pids;
}

/**
 * The processes with `marker` in their command line that are still alive after up to ~2 s. The
 * kernel's parent-death signal and namespace teardown give no event to await, so this polls.
 */
async function survivorsOf(marker: string): Promise<number[]> {
  for (let attempt = 0; attempt < 100 && pidsWithCommandLine(marker).length > 0; attempt++) await Bun.sleep(20);
  return pidsWithCommandLine(marker);
}

/** SIGKILLs what a failed test left behind, so that one failure does not leak a sandbox. */
function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
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

/** The argv the server spawns for `command`: exactly the production flags, with `workspace` as the workspace. */
function sandboxArgv(command: string[]): string[] {
  const options = {
    bwrapPath: bwrapPath ?? "bwrap",
    reaperPath: installReaper(dir, hostArch as ReaperArch),
    systemMounts: readSystemMounts(),
  };
  const args = buildBwrapArgs(options, { workspace, allowNetwork: false }, workspace);
  return [options.bwrapPath, ...args, "--", REAPER_SANDBOX_PATH, ...command];
}

function runInBwrap(command: string[]) {
  return runWithRecordPipe(sandboxArgv(command));
}

/** Spawns `/bin/sh -c script` in the sandbox, through `wrap` if given (a stand-in parent of bwrap). */
function spawnSandboxedScript(script: string, wrap: (argv: string[]) => string[] = (argv) => argv) {
  return Bun.spawn(wrap(sandboxArgv(["/bin/sh", "-c", script])), { stdio: ["ignore", "pipe", "inherit", "pipe", "pipe"] });
}

describe("reaper in bwrap", () => {
  const sh = (script: string) => runInBwrap(["/bin/sh", "-c", script]);

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
    const run = await runInBwrap(["/nonexistent", "arg"]);
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

  test.skipIf(bwrapSkipReason !== undefined)("is pid 1 of the sandbox, with no bwrap init above the command", async () => {
    expect((await sh("echo $PPID; tr '\\0' '\\n' < /proc/1/cmdline | head -n 1")).stdout).toBe(`1\n${REAPER_SANDBOX_PATH}\n`);
  });

  test.skipIf(bwrapSkipReason !== undefined)("reaps the orphans it inherits as pid 1 and still reports the command", async () => {
    // The subshell exits at once and leaves `sleep 0.1` to pid 1, which must reap it when it ends.
    const run = await sh('(sleep 0.1 &); sleep 0.3; echo zombies: $(grep -l "^State:.Z" /proc/[0-9]*/status | wc -l)');
    expect(run).toEqual({ exitCode: 0, stdout: "zombies: 0\n", stderr: "", records: { waitStatus: 0 } });
  });

  test.skipIf(bwrapSkipReason !== undefined)("ends everything left in the sandbox when the command exits", async () => {
    const marker = `sleep 122.${process.pid}`;
    const run = await sh(`setsid ${marker} > /dev/null 2>&1 & ${marker} > /dev/null 2>&1 & exit 4`);
    expect(run).toEqual({ exitCode: 4, stdout: "", stderr: "", records: { waitStatus: 4 << 8 } });
    // bwrap's wait for its child ends only after the kernel has emptied the namespace.
    expect(pidsWithCommandLine(marker)).toEqual([]);
  });

  test.skipIf(bwrapSkipReason !== undefined)("makes fds 9 and 10 the command's stdout and stderr, which end before bwrap exits", async () => {
    // bwrap's monitor closes every fd above 2: only the sandbox holds 9 and 10, and their end comes
    // when its last process is gone. Stopped, bwrap cannot exit; the output still ends, the record there.
    const stdio = ["pipe", "pipe", "pipe", "pipe", "pipe", "ignore", "ignore", "ignore", "ignore", "pipe", "pipe"] as const;
    const proc = Bun.spawn(sandboxArgv(["/bin/sh", "-c", "echo ready >&2; read -r line; echo out $line; ls /proc/self/fd >&2"]), { stdio: [...stdio] });
    const [jsonStatusFd, recordFd, stdoutFd, stderrFd] = [3, 4, 9, 10].map((fd) => pipeFd(proc.stdio[fd]));
    try {
      const stderr = Bun.file(stderrFd!).stream();
      const stderrReader = stderr.getReader();
      const first = await stderrReader.read();
      expect(new TextDecoder().decode(first.value)).toBe("ready\n");
      process.kill(proc.pid, "SIGSTOP");
      proc.stdin.write("go\n");
      await proc.stdin.flush();
      const rest = (async () => {
        let text = "";
        for (let chunk = await stderrReader.read(); !chunk.done; chunk = await stderrReader.read()) text += new TextDecoder().decode(chunk.value);
        return text;
      })();
      const [stdout, stderrRest] = [new TextDecoder().decode(await readToEnd(stdoutFd!)), await rest];
      expect({ stdout, stderr: stderrRest }).toEqual({ stdout: "out go\n", stderr: "0\n1\n2\n3\n" });
      expect(decodeReaperRecords(readAvailable(recordFd!))).toEqual({ waitStatus: 0 });
      expect(readFileSync(`/proc/${proc.pid}/stat`, "utf8")).toMatch(/^\d+ \(bwrap\) T /);
      process.kill(proc.pid, "SIGCONT");
      expect(await proc.exited).toBe(0);
      expect(await new Response(proc.stdout).text()).toBe("");
    } finally {
      killAll([proc.pid]);
      for (const fd of [jsonStatusFd, recordFd, stdoutFd, stderrFd]) closeSync(fd!);
    }
  });

  test.skipIf(bwrapSkipReason !== undefined || !stracePath)("closes its stdout and stderr after the record, before it exits", async () => {
    // exit_group would release them only after the namespaces' teardown (an exiting task's last fput
    // runs after exit_task_namespaces), and the command's output would end ~0.3 ms later than it can.
    const trace = join(dir, "reaper.strace");
    const proc = Bun.spawn([stracePath!, "-f", "-qq", "-e", "trace=write,close,exit_group", "-o", trace, ...sandboxArgv(["/bin/true"])], {
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
    });
    try {
      expect(await proc.exited).toBe(0);
      const lines = readFileSync(trace, "utf8").split("\n");
      const record = lines.findIndex((line) => /^\d+ +write\(4, "\\2\\0\\0\\0/.test(line));
      expect(record).toBeGreaterThanOrEqual(0);
      const reaper = lines[record]!.split(" ")[0]!;
      const after = lines
        .slice(record + 1)
        .filter((line) => line.startsWith(`${reaper} `))
        .map((line) => line.slice(reaper.length).trim().replace(/ +/g, " "));
      expect(after.slice(0, 3)).toEqual(["close(1) = 0", "close(2) = 0", "exit_group(0) = ?"]);
    } finally {
      closeSync(pipeFd(proc.stdio[3]));
      closeSync(pipeFd(proc.stdio[4]));
    }
  });

  test.skipIf(bwrapSkipReason !== undefined)("kills and reaps everything else in the sandbox before it writes the record", async () => {
    // dd holds 200 MB while it waits to write them to a reader that never reads: freeing them makes
    // its death slow. Were the rest left to the kernel's teardown after the record, the record (and
    // the server's exit message with it) would come while dd is still dying.
    const blockSize = 200_000_000 + (process.pid % 1000);
    const script = `(dd if=/dev/zero bs=${blockSize} count=1 iflag=fullblock status=none | { head -c 1 >/dev/null; echo ready; exec sleep 127; }) & read -r _`;
    const proc = Bun.spawn(sandboxArgv(["/bin/sh", "-c", script]), { stdio: ["pipe", "pipe", "inherit", "pipe", "pipe"] });
    const jsonStatusFd = pipeFd(proc.stdio[3]);
    const recordFd = pipeFd(proc.stdio[4]);
    try {
      await readUntil(proc.stdout, "ready\n");
      // dd's own command line; the shell's and bwrap's hold the marker too.
      const [dd] = pidsWithCommandLine(`bs=${blockSize}`).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("dd\0"));
      expect(dd).toBeDefined();
      proc.stdin.write("\n");
      await proc.stdin.flush();
      // The reaper's end of fd 4 closes as it exits, right after the record.
      expect(decodeReaperRecords(await readToEnd(recordFd))).toEqual({ waitStatus: 0 });
      expect(existsSync(`/proc/${dd}`)).toBe(false);
      expect(await proc.exited).toBe(0);
    } finally {
      killAll(pidsWithCommandLine(`bs=${blockSize}`));
      closeSync(jsonStatusFd);
      closeSync(recordFd);
    }
  });

  test.skipIf(bwrapSkipReason !== undefined)("leaves nothing running when the process that started bwrap is SIGKILLed", async () => {
    const marker = `sleep 123.${process.pid}`;
    // bash stands in for the server: bwrap is its child, as it is the server's.
    const parent = spawnSandboxedScript(`${marker} & echo ready; ${marker}`, (argv) => ["bash", "-c", '"$@" & wait', "bash", ...argv]);
    try {
      await readUntil(parent.stdout, "ready\n");
      expect(pidsWithCommandLine(marker).length).toBeGreaterThan(0);
      parent.kill("SIGKILL");
      await parent.exited;
      expect(await survivorsOf(marker)).toEqual([]);
    } finally {
      killAll(pidsWithCommandLine(marker));
      closeSync(pipeFd(parent.stdio[3]));
      closeSync(pipeFd(parent.stdio[4]));
    }
  });

  test.skipIf(bwrapSkipReason !== undefined)("SIGKILL to the child-pid bwrap reports, the reaper, ends the whole sandbox", async () => {
    const marker = `sleep 124.${process.pid}`;
    const proc = spawnSandboxedScript(`${marker} & echo ready; ${marker}`);
    const jsonStatusFd = pipeFd(proc.stdio[3]);
    const recordFd = pipeFd(proc.stdio[4]);
    try {
      const status = JSON.parse(await readUntil(Bun.file(jsonStatusFd).stream(), "\n")) as { "child-pid": number };
      const childPid = status["child-pid"];
      await readUntil(proc.stdout, "ready\n");
      expect(readFileSync(`/proc/${childPid}/cmdline`, "utf8").split("\0")[0]).toBe(REAPER_SANDBOX_PATH);
      process.kill(childPid, "SIGKILL");
      expect(await proc.exited).toBe(137);
      expect(decodeReaperRecords(await readToEnd(recordFd))).toEqual({});
      expect(pidsWithCommandLine(marker)).toEqual([]);
    } finally {
      killAll(pidsWithCommandLine(marker));
      closeSync(jsonStatusFd);
      closeSync(recordFd);
    }
  });

  test.skipIf(bwrapSkipReason !== undefined)("ends the sandbox when the reader of fd 4 goes away while the command runs", async () => {
    // A dead server's end of fd 4 closes even when no parent-death signal reaches the reaper.
    const marker = `sleep 125.${process.pid}`;
    const proc = spawnSandboxedScript(`${marker} & echo ready; ${marker}`);
    const jsonStatusFd = pipeFd(proc.stdio[3]);
    try {
      await readUntil(proc.stdout, "ready\n");
      closeSync(pipeFd(proc.stdio[4]));
      expect(await proc.exited).toBe(137);
      expect(pidsWithCommandLine(marker)).toEqual([]);
    } finally {
      killAll(pidsWithCommandLine(marker));
      closeSync(jsonStatusFd);
    }
  });

  test.skipIf(bwrapSkipReason !== undefined)("runs nothing when the reader of fd 4 is gone before it starts", async () => {
    // The server's death closes its end of fd 4. bash holds bwrap back until that end is closed, as a
    // server killed while bwrap sets the sandbox up would leave it; no parent-death signal comes then.
    const proc = Bun.spawn(["bash", "-c", 'read -r _ && exec "$@"', "bash", ...sandboxArgv(["/bin/sh", "-c", "echo ran"])], {
      stdio: ["pipe", "pipe", "pipe", "pipe", "pipe"],
    });
    const jsonStatusFd = pipeFd(proc.stdio[3]);
    closeSync(pipeFd(proc.stdio[4]));
    try {
      proc.stdin.write("go\n");
      await proc.stdin.end();
      const [exitCode, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
      expect({ exitCode, stdout, stderr }).toEqual({ exitCode: 137, stdout: "", stderr: "" });
    } finally {
      closeSync(jsonStatusFd);
    }
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

  test.skipIf(!qemuPath)("runs nothing when the reader of fd 4 is gone before it starts", async () => {
    const argv = [qemuPath ?? "qemu-aarch64", installReaper(dir, "arm64"), "/bin/sh", "-c", "echo ran"];
    const proc = Bun.spawn(["bash", "-c", 'read -r _ && exec "$@"', "bash", ...argv], { stdio: ["pipe", "pipe", "pipe", "ignore", "pipe"] });
    closeSync(pipeFd(proc.stdio[4]));
    proc.stdin.write("go\n");
    await proc.stdin.end();
    const [exitCode, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    expect({ exitCode, stdout, stderr }).toEqual({ exitCode: 137, stdout: "", stderr: "" });
  });

  test.skipIf(!qemuPath)("exits when the reader of fd 4 goes away while the command runs", async () => {
    // Without a PID namespace the command outlives the reaper; it is cleaned up below.
    const marker = `sleep 126.${process.pid}`;
    const argv = [qemuPath ?? "qemu-aarch64", installReaper(dir, "arm64"), "/bin/sh", "-c", `echo ready; exec ${marker}`];
    const proc = Bun.spawn(argv, { stdio: ["ignore", "pipe", "inherit", "ignore", "pipe"] });
    try {
      await readUntil(proc.stdout, "ready\n");
      closeSync(pipeFd(proc.stdio[4]));
      expect(await proc.exited).toBe(137);
    } finally {
      killAll(pidsWithCommandLine(marker));
    }
  });
});

/** Host pids of the processes in the PID namespace whose pid 1 is `initPid`, pid 1 included. */
function pidsInNamespaceOf(initPid: number): number[] {
  const namespace = readlinkSync(`/proc/${initPid}/ns/pid`);
  return readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/pid`) === namespace;
    } catch {
      return false;
    }
  });
}

// The pid-1 code (what the reaper does once the command has ended) on both architectures, arm64
// under qemu, without bwrap: `unshare` gives the reaper a PID namespace of its own.
for (const arch of ["x64", "arm64"] as const) {
  const skipReason = !unsharePath ? "unshare not installed" : arch === "arm64" ? (!qemuPath ? "qemu-aarch64 not installed" : undefined) : hostArch !== "x64" ? "not an x64 host" : undefined;
  if (skipReason) console.log(`skipping the ${arch} reaper's pid-1 tests: ${skipReason}`);
  describe.skipIf(skipReason !== undefined)(`reaper (${arch}) as pid 1 of its own PID namespace`, () => {
    const reaperArgv = () => [...(arch === "arm64" ? [qemuPath ?? "qemu-aarch64"] : []), installReaper(dir, arch)];
    const unshare = (command: string[]) => [unsharePath ?? "unshare", "--user", "--map-root-user", "--pid", "--fork", ...reaperArgv(), ...command];

    test("kills what the command left even when the command sent it SIGTERM itself (kill 0, kill -TERM 1)", async () => {
      // Only the server's SIGTERM (from outside the namespace) gives the rest a grace; taken for it,
      // this one kept the reaper waiting for the sleep, and the exec open with it.
      const marker = `sleep 127.${process.pid}${arch === "x64" ? 1 : 2}`;
      const startedAt = performance.now();
      try {
        const run = await runWithRecordPipe(unshare(["/bin/sh", "-c", `kill -TERM 1; ${marker} & echo started`]));
        expect(run).toMatchObject({ exitCode: 0, stdout: "started\n", records: { waitStatus: 0 } });
        expect(performance.now() - startedAt).toBeLessThan(10_000);
        expect(pidsWithCommandLine(marker)).toEqual([]);
      } finally {
        killAll(pidsWithCommandLine(marker));
      }
    }, 60_000);

    test("after a SIGTERM from outside (the server's), leaves the rest their time to clean up and reaps them", async () => {
      const cleaned = join(dir, `cleaned-${arch}`);
      // "up" comes from the background job itself, once it runs a program of its own: a SIGTERM that
      // lands between its fork and its exec finds the trap's handler still there, and dash drops it
      // with the trap, so `sleep 128` lived on and the reaper, rightly waiting for the server's
      // SIGKILL that this test does not send, held it for 60 s (1 run in 2 here, for both reapers).
      const script = `sh -c 'trap "sleep 0.3; echo done > ${cleaned}; exit 0" TERM; sh -c "echo up; exec sleep 128" & wait'; echo after`;
      const proc = Bun.spawn(unshare(["/bin/sh", "-c", script]), { stdio: ["ignore", "pipe", "inherit", "pipe", "pipe"] });
      const recordFd = pipeFd(proc.stdio[4]);
      try {
        await readUntil(proc.stdout, "up\n");
        // What tree-signals.ts does at a timeout: SIGTERM to every process of the namespace, pid 1 too.
        const initPid = Number(readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, "utf8").trim());
        for (const pid of pidsInNamespaceOf(initPid)) {
          try {
            process.kill(pid, "SIGTERM");
          } catch {
            // Ended meanwhile.
          }
        }
        const [records] = await Promise.all([readToEnd(recordFd), proc.exited]);
        // The first shell died of the SIGTERM; its child's handler finished before the record.
        expect(decodeReaperRecords(records)).toEqual({ waitStatus: 15 });
        expect(readFileSync(cleaned, "utf8")).toBe("done\n");
      } finally {
        closeSync(recordFd);
        closeSync(pipeFd(proc.stdio[3]));
        proc.kill("SIGKILL");
      }
    }, 60_000);
  });
}

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
