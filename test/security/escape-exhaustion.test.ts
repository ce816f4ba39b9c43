// Escape suite: exhausting processes, memory, files, CPU and tmpfs (docs/SECURITY.md, "Escape suite").
// Each attempt runs with a lowered per-exec limit so that it ends in a few seconds, and where cheap the
// same command runs again under the defaults to show that it is the limit that stops it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import type { TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startEscapeFixture, type EscapeFixture } from "./helpers/escape-fixture.ts";
import { hostProcessesMatching } from "./helpers/host-probes.ts";
import { allocate, forkUntilRefused, openUntilRefused, perl } from "./helpers/perl-attempts.ts";

const MiB = 1024 * 1024;
// The shell forks once for the subshell, so only the bomb, not the shell that waits, meets the limit.
const FORK_BOMB = "bomb() { bomb | bomb & }; (bomb) & exec sleep 7400";
/** Bigger than the default 512 MiB /tmp: a tmpfs that takes it has no cap. */
const TMPFS_FILL = "600M";

describe.skipIf(noBwrap)("escape suite: resource exhaustion", () => {
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

  test("forking without end stops at processes: 64; under the defaults the same 200 forks succeed", async () => {
    const limited = await client.exec({ id: "fork-limited", argv: forkUntilRefused(200), rlimits: { processes: 64 }, timeoutMs: 10_000 });
    expect(limited.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(limited.stdout).toMatch(/^\d+ Resource temporarily unavailable\n$/);
    // 64 processes of the sandbox's uid: the reaper, perl, and at most 62 children.
    expect(Number.parseInt(limited.stdout, 10)).toBeLessThanOrEqual(62);
    const control = await client.exec({ id: "fork-control", argv: forkUntilRefused(200), timeoutMs: 10_000 });
    expect(control.stdout).toBe("200 no limit\n");
  });

  test("a shell fork bomb runs into processes: 64 and its timeout while another session is served; nothing is left", async () => {
    client.send({ type: "exec", id: "bomb", cmd: FORK_BOMB, rlimits: { processes: 64 }, timeoutMs: 2000 });
    await client.next((message) => message.type === "started" && message.id === "bomb");
    expect((await other.exec({ id: "during-bomb", argv: ["echo", "ok"] })).stdout).toBe("ok\n");
    const bomb = await client.runToExit("bomb");
    expect(bomb.exit).toMatchObject({ code: null, signal: "SIGTERM", reason: "timeout" });
    expect(bomb.stderr).toContain("/bin/sh: 1: Cannot fork\n");
    expect([...hostProcessesMatching(`/bin/sh -c ${FORK_BOMB}`), ...hostProcessesMatching("sleep 7400")]).toEqual([]);
  });

  test("a 384 MiB allocation fails at addressSpaceBytes: 256 MiB; under the defaults it succeeds", async () => {
    const limited = await client.exec({ id: "memory-limited", argv: allocate(384 * MiB), rlimits: { addressSpaceBytes: 256 * MiB }, timeoutMs: 10_000 });
    expect(limited.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(limited.stderr).toBe("Out of memory!\n");
    expect((await other.exec({ id: "after-memory", argv: ["echo", "ok"] })).stdout).toBe("ok\n");
    const control = await client.exec({ id: "memory-control", argv: allocate(384 * MiB), timeoutMs: 10_000 });
    expect(control.stdout).toBe(`${384 * MiB}\n`);
  });

  test("opening files stops at openFiles: 64, and at 4096 by default", async () => {
    const limited = await client.exec({ id: "fds-limited", argv: openUntilRefused(5000), rlimits: { openFiles: 64 } });
    // fds 0, 1 and 2 are open already.
    expect(limited.stdout).toBe("61 Too many open files\n");
    const control = await client.exec({ id: "fds-control", argv: openUntilRefused(5000) });
    expect(control.stdout).toBe("4093 Too many open files\n");
  });

  test("a file grows no larger than fileSizeBytes: the writer gets SIGXFSZ", async () => {
    const run = await client.exec({ id: "fsize", argv: ["dd", "if=/dev/zero", "of=big", "bs=1M", "count=2"], rlimits: { fileSizeBytes: MiB } });
    expect(run.exit).toMatchObject({ code: null, signal: "SIGXFSZ", reason: "signaled" });
    expect(statSync(join(client.hello.workspace, "big")).size).toBe(MiB);
  });

  test("a busy loop is killed at cpuSeconds: 1 (soft and hard limit alike, so SIGKILL)", async () => {
    const run = await client.exec({ id: "cpu", argv: perl("1 while 1"), rlimits: { cpuSeconds: 1 }, timeoutMs: 10_000 });
    expect(run.exit).toMatchObject({ code: null, signal: "SIGKILL", reason: "signaled" });
  });

  test("a lowered limit cannot be raised again from inside", async () => {
    const run = await client.exec({ id: "raise", cmd: "ulimit -n 100000", rlimits: { openFiles: 64 } });
    expect(run.exit).toMatchObject({ code: 2, reason: "exited" });
    expect(run.stderr).toBe("/bin/sh: 1: ulimit: error setting limit (Operation not permitted)\n");
  });

  test("a request for more than the server's limit is refused before anything runs", async () => {
    client.send({ type: "exec", id: "above", argv: ["true"], rlimits: { processes: 5000 } });
    expect(await client.next((message) => "id" in message && message.id === "above")).toEqual({
      type: "error",
      id: "above",
      code: "forbidden_by_policy",
      message: "rlimits.processes: 5000 is above the server's limit of 1024; a request can only lower it",
    });
  });

  test("core dumps are off", async () => {
    const run = await client.exec({ id: "core", cmd: "ulimit -c" });
    expect(run.stdout).toBe("0\n");
  });

  test("/tmp holds 512 MiB and refuses 600 MiB", async () => {
    const run = await client.exec({ id: "tmp", cmd: `df -B1 --output=size /tmp | tail -n 1; fallocate -l ${TMPFS_FILL} /tmp/fill` });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout.trim()).toBe(String(512 * MiB));
    expect(run.stderr).toBe("fallocate: fallocate failed: No space left on device\n");
  });

  // Open finding: bwrap's other tmpfs mounts (/ with the mount points, /dev with /dev/shm) are
  // writable and sized by the kernel's default, half the host's RAM each, so the /tmp cap can be
  // walked around. Expected: each is capped too (No space left) or not writable (read-only), as with
  // `--size N --tmpfs /dev/shm --remount-ro /dev` and `--remount-ro /` (tried by hand with bwrap 0.8).
  const otherTmpfs: [name: string, path: string][] = [
    ["/dev itself", "/dev/fill"],
    ["/dev/shm", "/dev/shm/fill"],
    ["the root tmpfs that holds the mount points", "/fill"],
    ["the workspace's parent (`..`), in that root tmpfs", "../fill"],
  ];
  for (const [index, [name, path]] of otherTmpfs.entries()) {
    test(`a tmpfs outside /tmp takes no more than /tmp: ${name}`, async () => {
      const run = await client.exec({ id: `tmpfs-${index}`, cmd: `fallocate -l ${TMPFS_FILL} ${path}` });
      expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
      expect(run.stderr).toMatch(
        new RegExp(`^fallocate: (fallocate failed: No space left on device|cannot open ${path.replaceAll(".", "\\.")}: (Read-only file system|Permission denied))\\n$`),
      );
    });
  }
});
