/**
 * enter (src/sandbox/enter.ts, reaper/enter-*.S): joins the namespaces at fds 7 and 8 (and with
 * `-n` the network namespace at fd 11), closes them, executes its arguments. Run natively for the
 * host's architecture, and the arm64 build under qemu-aarch64 as far as qemu allows (below).
 */
import { describe, expect, test } from "bun:test";
import { closeSync, openSync, readlinkSync, statSync } from "node:fs";
import { installEnter } from "../../src/sandbox/enter.ts";
import { installNetnsMaker, openSharedNetwork } from "../../src/sandbox/shared-network.ts";
import { placeStdio } from "../../src/exec/stdio-slots.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { hostArch, useSetupNamespace } from "../helpers/setup-namespace-fixture.ts";

const qemuPath = Bun.which("qemu-aarch64");
if (!qemuPath) console.log("skipping arm64 enter tests: qemu-aarch64 not installed");

const fixture = useSetupNamespace("bunker-enter-");

/** Runs `argv` with `user` and `mount` at fds 7 and 8. */
async function run(argv: string[], user: number, mount: number): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(argv, { stdio: ["ignore", "pipe", "pipe", "ignore", "ignore", "ignore", "ignore", user, mount], env: { PATH: "/usr/bin:/bin" } });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** Runs `argv` with the setup namespace at fds 7 and 8 and `more` fds placed as given. */
async function runWith(argv: string[], more: Record<number, number>): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const stdio: ("ignore" | "pipe" | number)[] = ["ignore", "pipe", "pipe", "ignore", "ignore", "ignore", "ignore", fixture.namespace!.userFd, fixture.namespace!.mountFd];
  for (const [fd, hostFd] of Object.entries(more)) placeStdio(stdio, Number(fd), hostFd);
  const proc = Bun.spawn(argv, { stdio: stdio as ["ignore", "pipe", "pipe"], env: { PATH: "/usr/bin:/bin" } });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** The setup namespace's own ids, as a process inside it reads them from /proc/self/ns. */
function namespaceIds(): string {
  const ids = [fixture.namespace!.userFd, fixture.namespace!.mountFd].map((fd) => statSync(`/proc/self/fd/${fd}`).ino);
  return `user:[${ids[0]}]\nmnt:[${ids[1]}]\n`;
}

const CANNOT_JOIN = "bunker enter: cannot join the setup namespace (setns on fd 7 or 8) or the session's network namespace (fd 11)\n";

const READ_OWN = ["/bin/sh", "-c", 'readlink /proc/self/ns/user /proc/self/ns/mnt; for fd in 7 8; do [ -e /proc/self/fd/$fd ] && echo "fd $fd open"; done; true'];

describe.skipIf(noBwrap || !hostArch)(`enter for the host (${process.arch})`, () => {
  test("runs its program in the namespaces at fds 7 and 8, which it closes first", async () => {
    const enter = installEnter(fixture.dir, hostArch!);
    expect(await run([enter, ...READ_OWN], fixture.namespace!.userFd, fixture.namespace!.mountFd)).toEqual({ exitCode: 0, stdout: namespaceIds(), stderr: "" });
    // Not where it started.
    expect(namespaceIds()).not.toContain(readlinkSync("/proc/self/ns/mnt"));
  });

  test("exits 126 with a line on stderr when fd 7 is not a namespace, and runs nothing", async () => {
    const notNamespace = openSync("/dev/null", "r");
    try {
      const result = await run([installEnter(fixture.dir, hostArch!), "/bin/sh", "-c", "echo ran"], notNamespace, fixture.namespace!.mountFd);
      expect(result).toEqual({ exitCode: 126, stdout: "", stderr: CANNOT_JOIN });
    } finally {
      closeSync(notNamespace);
    }
  });

  test("exits 126 when fd 8 is not a mount namespace, and runs nothing", async () => {
    const notNamespace = openSync("/dev/null", "r");
    try {
      const result = await run([installEnter(fixture.dir, hostArch!), "/bin/sh", "-c", "echo ran"], fixture.namespace!.userFd, notNamespace);
      expect(result).toEqual({ exitCode: 126, stdout: "", stderr: CANNOT_JOIN });
    } finally {
      closeSync(notNamespace);
    }
  });

  test("with -n, also joins the network namespace at fd 11 and closes it; without, stays in its own", async () => {
    const enter = installEnter(fixture.dir, hostArch!);
    const network = openSharedNetwork(installNetnsMaker(fixture.dir, hostArch!), fixture.namespace!, undefined, () => fixture.namespace!);
    try {
      const readNet = ["/bin/sh", "-c", 'readlink /proc/self/ns/net; [ -e /proc/self/fd/11 ] && echo "fd 11 open"; true'];
      const joined = await runWith([enter, "-n", ...readNet], { 11: network.fd });
      expect(joined).toEqual({ exitCode: 0, stdout: `net:[${statSync(`/proc/self/fd/${network.fd}`).ino}]\n`, stderr: "" });
      // fd 11 open but no -n: not joined, and not closed either (bwrap closes what it does not know).
      const notAsked = await runWith([enter, ...readNet], { 11: network.fd });
      expect(notAsked).toEqual({ exitCode: 0, stdout: `${readlinkSync("/proc/self/ns/net")}\nfd 11 open\n`, stderr: "" });
    } finally {
      network.close();
    }
  });

  test("with -n, exits 126 and runs nothing when fd 11 is not a network namespace, or not open: never the host's network", async () => {
    const enter = installEnter(fixture.dir, hostArch!);
    const notNamespace = openSync("/dev/null", "r");
    try {
      expect(await runWith([enter, "-n", "/bin/sh", "-c", "echo ran"], { 11: notNamespace })).toEqual({ exitCode: 126, stdout: "", stderr: CANNOT_JOIN });
      // The user namespace is not a network namespace either.
      expect(await runWith([enter, "-n", "/bin/sh", "-c", "echo ran"], { 11: fixture.namespace!.userFd })).toEqual({ exitCode: 126, stdout: "", stderr: CANNOT_JOIN });
      expect(await runWith([enter, "-n", "/bin/sh", "-c", "echo ran"], {})).toEqual({ exitCode: 126, stdout: "", stderr: CANNOT_JOIN });
    } finally {
      closeSync(notNamespace);
    }
  });

  test("with -n and no program, exits 127; a program named like the flag is only a program", async () => {
    const enter = installEnter(fixture.dir, hostArch!);
    expect(await runWith([enter, "-n"], {})).toEqual({ exitCode: 127, stdout: "", stderr: "bunker enter: cannot execute the program (execve)\n" });
    // "-nx" and "-" are not the flag: executed (and not found).
    expect(await runWith([enter, "-nx"], {})).toEqual({ exitCode: 127, stdout: "", stderr: "bunker enter: cannot execute the program (execve)\n" });
    expect(await runWith([enter, "-"], {})).toEqual({ exitCode: 127, stdout: "", stderr: "bunker enter: cannot execute the program (execve)\n" });
  });

  test("passes its arguments on exactly: spaces, an empty one, non-ASCII", async () => {
    const args = ["two words", "", "naïve ✓", "--", "-c"];
    const result = await run([installEnter(fixture.dir, hostArch!), "/bin/sh", "-c", 'for a in "$@"; do printf "[%s]" "$a"; done', "sh", ...args], fixture.namespace!.userFd, fixture.namespace!.mountFd);
    expect(result).toEqual({ exitCode: 0, stdout: args.map((arg) => `[${arg}]`).join(""), stderr: "" });
  });

  test("exits 127 with a line on stderr when its program cannot be executed, or none is given", async () => {
    const enter = installEnter(fixture.dir, hostArch!);
    const expected = { exitCode: 127, stdout: "", stderr: "bunker enter: cannot execute the program (execve)\n" };
    expect(await run([enter, "/nonexistent/program"], fixture.namespace!.userFd, fixture.namespace!.mountFd)).toEqual(expected);
    expect(await run([enter], fixture.namespace!.userFd, fixture.namespace!.mountFd)).toEqual(expected);
  });

  test("passes the environment on unchanged", async () => {
    const proc = Bun.spawn([installEnter(fixture.dir, hostArch!), "/usr/bin/env"], {
      stdio: ["ignore", "pipe", "pipe", "ignore", "ignore", "ignore", "ignore", fixture.namespace!.userFd, fixture.namespace!.mountFd],
      env: { ONE: "1", TWO: "two words" },
    });
    expect(await new Response(proc.stdout).text()).toBe("ONE=1\nTWO=two words\n");
  });
});

// qemu-user runs threads of its own, and the kernel lets only a single-threaded process join a
// user namespace (EINVAL): under qemu every setns fails, so only that path of the arm64 build runs
// here. Its joining and executing are the x86_64 build's, instruction for instruction.
describe.skipIf(!qemuPath)("enter for arm64 under qemu-aarch64", () => {
  test("exits 126 with a line on stderr when it cannot join, and runs nothing", async () => {
    const notNamespace = openSync("/dev/null", "r");
    try {
      const result = await run([qemuPath!, installEnter(fixture.dir, "arm64"), "/bin/sh", "-c", "echo ran"], notNamespace, notNamespace);
      expect(result).toEqual({ exitCode: 126, stdout: "", stderr: CANNOT_JOIN });
    } finally {
      closeSync(notNamespace);
    }
  });
});
