// Escape suite: privileges and the kernel interfaces that rebuild a sandbox from inside
// (docs/SECURITY.md, "Escape suite").
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { hostname } from "node:os";
import type { TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { COMMAND_GID, COMMAND_UID, startEscapeFixture, type EscapeFixture } from "./helpers/escape-fixture.ts";
import { rawSyscall } from "./helpers/perl-attempts.ts";

const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MNT_DETACH = 2;
const CLONE_NEWUSER = 0x10000000;

describe.skipIf(noBwrap)("escape suite: privileges and the kernel", () => {
  let fixture: EscapeFixture;
  let client: TestClient;
  beforeAll(async () => {
    fixture = await startEscapeFixture();
    client = await fixture.connect();
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  // Depends on run-as for the Uid and Gid lines (0 when a root server's commands run as root).
  test("the command runs as nobody (under a root server) with no capability and no way to gain one", async () => {
    const run = await client.exec({ id: "status", cmd: "grep -E '^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status" });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stdout).toBe(
      [
        `Uid:\t${COMMAND_UID}\t${COMMAND_UID}\t${COMMAND_UID}\t${COMMAND_UID}`,
        `Gid:\t${COMMAND_GID}\t${COMMAND_GID}\t${COMMAND_GID}\t${COMMAND_GID}`,
        "CapInh:\t0000000000000000",
        "CapPrm:\t0000000000000000",
        "CapEff:\t0000000000000000",
        "CapBnd:\t0000000000000000",
        "CapAmb:\t0000000000000000",
        "NoNewPrivs:\t1",
        "Seccomp:\t2",
        "",
      ].join("\n"),
    );
  });

  test("mount of a tmpfs over /proc is refused", async () => {
    const run = await client.exec({ id: "mount", argv: rawSyscall("mount", "none", "/proc", "tmpfs", 0, 0) });
    expect(run.stdout).toBe("Operation not permitted\n");
  });

  test("a recursive bind mount of / is refused", async () => {
    const run = await client.exec({ id: "bind", argv: rawSyscall("mount", "/", client.hello.workspace, "none", MS_BIND | MS_REC, 0) });
    expect(run.stdout).toBe("Operation not permitted\n");
  });

  test("umount of /proc, to see what lies beneath, is refused", async () => {
    const run = await client.exec({ id: "umount", argv: rawSyscall("umount2", "/proc", MNT_DETACH) });
    expect(run.stdout).toBe("Operation not permitted\n");
  });

  test("unshare --user --map-root-user, the first step to every capability, is refused", async () => {
    const run = await client.exec({ id: "unshare", argv: ["unshare", "--user", "--map-root-user", "id", "-u"] });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("unshare: unshare failed: Operation not permitted\n");
  });

  test("unshare(CLONE_NEWUSER) as a raw syscall is refused", async () => {
    const run = await client.exec({ id: "unshare-raw", argv: rawSyscall("unshare", CLONE_NEWUSER) });
    expect(run.stdout).toBe("Operation not permitted\n");
  });

  test("pivot_root is refused", async () => {
    const run = await client.exec({ id: "pivot-root", argv: rawSyscall("pivot_root", client.hello.workspace, client.hello.workspace) });
    expect(run.stdout).toBe("Operation not permitted\n");
  });

  test("chroot, the classic way to climb out of a chroot, is refused", async () => {
    const run = await client.exec({ id: "chroot", argv: rawSyscall("chroot", ".") });
    expect(run.stdout).toBe("Operation not permitted\n");
  });

  test("the hostname cannot be changed, and the host's was never visible", async () => {
    const run = await client.exec({ id: "hostname", cmd: "hostname bunker-escaped; hostname" });
    expect(run.stderr).toBe("hostname: you must be root to change the host name\n");
    expect(run.stdout).toBe("bunker\n");
    expect(hostname()).not.toBe("bunker-escaped");
  });

  test("sethostname as a raw syscall is refused", async () => {
    const run = await client.exec({ id: "sethostname", argv: rawSyscall("sethostname", "bunker-escaped", "bunker-escaped".length) });
    expect(run.stdout).toBe("Operation not permitted\n");
    expect(hostname()).not.toBe("bunker-escaped");
  });
});
