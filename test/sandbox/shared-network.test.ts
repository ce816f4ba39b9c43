/**
 * netns and the network namespace it makes for a session (src/sandbox/shared-network.ts,
 * reaper/netns-*.S): made in the setup namespace, its loopback up, not the host's, and a failure
 * said in netns's own words. Run natively, and the arm64 build under qemu-aarch64 as far as qemu
 * allows (its failure path; see enter.test.ts).
 */
import { describe, expect, test } from "bun:test";
import { closeSync, openSync, readdirSync, readlinkSync, statSync } from "node:fs";
import { installEnter } from "../../src/sandbox/enter.ts";
import type { SetupNamespace } from "../../src/sandbox/setup-namespace.ts";
import { installNetnsMaker, openSharedNetwork } from "../../src/sandbox/shared-network.ts";
import { placeStdio } from "../../src/exec/stdio-slots.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { hostArch, useSetupNamespace } from "../helpers/setup-namespace-fixture.ts";

const qemuPath = Bun.which("qemu-aarch64");
const fixture = useSetupNamespace("bunker-netns-");

/** Runs `argv` through enter -n, in the setup namespace and the network namespace `netFd`. */
async function inNetwork(netFd: number, argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const stdio: ("ignore" | "pipe" | number)[] = ["ignore", "pipe", "pipe"];
  placeStdio(stdio, 7, fixture.namespace!.userFd);
  placeStdio(stdio, 8, fixture.namespace!.mountFd);
  placeStdio(stdio, 11, netFd);
  const proc = Bun.spawn([installEnter(fixture.dir, hostArch!), "-n", ...argv], { stdio: stdio as ["ignore", "pipe", "pipe"], env: { PATH: "/usr/bin:/bin" } });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** This process's open fds, less Bun's pidfds of children it has yet to reap. */
function ownFds(): string[] {
  return readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) !== "anon_inode:[pidfd]";
    } catch {
      // readdir's own fd, closed by now.
      return false;
    }
  });
}

/** A listener and a client in one perl process: prints what the client got back through loopback. */
const LOOPBACK_ROUND_TRIP = [
  "/usr/bin/perl",
  "-MIO::Socket::IP",
  "-e",
  'for my $h ("127.0.0.1", "::1") { my $l = IO::Socket::IP->new(LocalHost => $h, LocalPort => 0, Listen => 1) or die "listen $h: $!\\n"; my $c = IO::Socket::IP->new(PeerHost => $h, PeerPort => $l->sockport) or die "connect $h: $!\\n"; my $a = $l->accept; print $a "hello $h\\n"; close $a; print scalar <$c>; }',
];

describe.skipIf(noBwrap || !hostArch)(`netns for the host (${process.arch})`, () => {
  test("makes a network namespace that is not the host's, and says which setup namespace it belongs to", () => {
    const network = openSharedNetwork(installNetnsMaker(fixture.dir, hostArch!), fixture.namespace!, undefined, () => fixture.namespace!);
    try {
      expect(statSync(`/proc/self/fd/${network.fd}`).ino).not.toBe(statSync("/proc/self/ns/net").ino);
      expect(readlinkSync(`/proc/self/fd/${network.fd}`)).toMatch(/^net:\[\d+\]$/);
      expect(network.setup).toBe(fixture.namespace!);
      expect(network.stale()).toBe(false);
    } finally {
      network.close();
    }
  });

  test("its loopback is up, with 127.0.0.1 and ::1, and it is its only interface", async () => {
    const network = openSharedNetwork(installNetnsMaker(fixture.dir, hostArch!), fixture.namespace!, undefined, () => fixture.namespace!);
    try {
      expect(await inNetwork(network.fd, LOOPBACK_ROUND_TRIP)).toEqual({ exitCode: 0, stdout: "hello 127.0.0.1\nhello ::1\n", stderr: "" });
      const devices = await inNetwork(network.fd, ["/bin/sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '"]);
      expect(devices).toEqual({ exitCode: 0, stdout: "lo\n", stderr: "" });
    } finally {
      network.close();
    }
  });

  test("each call makes a namespace of its own", () => {
    const maker = installNetnsMaker(fixture.dir, hostArch!);
    const first = openSharedNetwork(maker, fixture.namespace!, undefined, () => fixture.namespace!);
    const second = openSharedNetwork(maker, fixture.namespace!, undefined, () => fixture.namespace!);
    try {
      expect(statSync(`/proc/self/fd/${first.fd}`).ino).not.toBe(statSync(`/proc/self/fd/${second.fd}`).ino);
    } finally {
      first.close();
      second.close();
    }
  });

  test("is stale once the setup namespace it was made in is no longer the current one", () => {
    let current: SetupNamespace = fixture.namespace!;
    const network = openSharedNetwork(installNetnsMaker(fixture.dir, hostArch!), fixture.namespace!, undefined, () => current);
    try {
      expect(network.stale()).toBe(false);
      current = { ...fixture.namespace! };
      expect(network.stale()).toBe(true);
      current = fixture.namespace!;
      const throwing = openSharedNetwork(installNetnsMaker(fixture.dir, hostArch!), fixture.namespace!, undefined, () => {
        throw new Error("being made again");
      });
      expect(throwing.stale()).toBe(true);
      throwing.close();
    } finally {
      network.close();
    }
  });

  test("gives up on a netns that does not answer within a second, instead of holding the server", () => {
    // cat waits on its stdin, as netns would, and never writes the inode.
    const fdsBefore = ownFds();
    expect(() => openSharedNetwork("/bin/cat", fixture.namespace!, undefined, () => fixture.namespace!)).toThrow("netns: no answer within 1000 ms");
    expect(ownFds()).toEqual(fdsBefore);
  });

  test("throws netns's own words when fd 7 is not a user namespace, and leaves no fd behind", () => {
    const notNamespace = openSync("/dev/null", "r");
    const fdsBefore = ownFds();
    try {
      expect(() => openSharedNetwork(installNetnsMaker(fixture.dir, hostArch!), { ...fixture.namespace!, userFd: notNamespace }, undefined, () => fixture.namespace!)).toThrow(
        "netns: bunker netns: cannot make a network namespace in the setup namespace (fd 7)",
      );
      expect(ownFds()).toEqual(fdsBefore);
    } finally {
      closeSync(notNamespace);
    }
  });
});

describe.skipIf(!qemuPath)("netns for arm64 under qemu-aarch64", () => {
  test("exits 126 with a line on stderr when it cannot join, and writes nothing on stdout", async () => {
    const notNamespace = openSync("/dev/null", "r");
    try {
      const stdio: ("ignore" | "pipe" | number)[] = ["ignore", "pipe", "pipe"];
      placeStdio(stdio, 7, notNamespace);
      const proc = Bun.spawn([qemuPath!, installNetnsMaker(fixture.dir, "arm64")], { stdio: stdio as ["ignore", "pipe", "pipe"] });
      const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect({ exitCode, stdout, stderr }).toEqual({ exitCode: 126, stdout: "", stderr: "bunker netns: cannot make a network namespace in the setup namespace (fd 7)\n" });
    } finally {
      closeSync(notNamespace);
    }
  });
});
