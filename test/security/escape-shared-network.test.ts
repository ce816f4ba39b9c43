// Escape suite: the network namespace a session's commands share (docs/SECURITY.md, "Escape suite").
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readlinkSync } from "node:fs";
import { createConnection } from "node:net";
import type { TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startEscapeFixture, type EscapeFixture } from "./helpers/escape-fixture.ts";
import { connectTcp, perl } from "./helpers/perl-attempts.ts";

const SENTINEL = "session-listener-5e21";

/** Listens on `host`, prints `port <n>`, and answers every connection with its first argument. */
const LISTENER = (host: string) =>
  perl(
    'use IO::Socket::IP; $| = 1; my $l = IO::Socket::IP->new(LocalHost => $ARGV[1], LocalPort => 0, Listen => 5) or die "$!\\n"; print "port ", $l->sockport, "\\n"; while (my $c = $l->accept) { print $c "$ARGV[0]\\n"; close $c }',
    SENTINEL,
    host,
  );

/** The network namespaces the server process holds open (one per session whose commands share one). */
function networkFdsOf(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      return target.startsWith("net:") ? [target] : [];
    } catch {
      return [];
    }
  });
}

/** What a TCP connection from the host to 127.0.0.1:`port` comes to: the errno's code, or "connected". */
function connectFromHost(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe.skipIf(noBwrap)("escape suite: a session's commands share a network namespace, and only they", () => {
  let fixture: EscapeFixture;
  let client: TestClient;
  let other: TestClient;
  const ports = new Map<string, number>();
  beforeAll(async () => {
    fixture = await startEscapeFixture();
    client = await fixture.connect();
    other = await fixture.connect();
    // One listener per address, running for the whole file, in the first session.
    for (const host of ["127.0.0.1", "::1"]) {
      const id = `listener-${host}`;
      client.send({ type: "exec", id, argv: LISTENER(host) });
      const output = await client.next((message) => message.type === "output" && message.id === id);
      ports.set(host, Number(/^port (\d+)$/m.exec((output as { data: string }).data)?.[1]));
    }
  });
  afterAll(async () => {
    for (const host of ports.keys()) client?.send({ type: "signal", id: `listener-${host}`, signal: "SIGKILL" });
    await fixture?.dispose();
  });

  test("a server one command runs is reached by the session's next command, on 127.0.0.1 and on ::1", async () => {
    for (const [host, port] of ports) {
      const run = await client.exec({ id: `reach-${host}`, argv: connectTcp(host, port) });
      expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
      expect(run.stdout).toBe(`connected: ${SENTINEL}\n`);
    }
  });

  test("another session's command is refused on the same port: its loopback is its own", async () => {
    for (const [host, port] of ports) {
      const run = await other.exec({ id: `other-${host}`, argv: connectTcp(host, port) });
      expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
      expect(run.stdout).toBe("Connection refused\n");
    }
  });

  test("a read-only command gets a loopback of its own: it cannot ask a writable server of the session to write", async () => {
    const run = await client.exec({ id: "read-only", readOnly: true, argv: connectTcp("127.0.0.1", ports.get("127.0.0.1")!) });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("Connection refused\n");
  });

  test("the host is refused on that port: the session's loopback is not the host's", async () => {
    expect(await connectFromHost(ports.get("127.0.0.1")!)).toBe("ECONNREFUSED");
  });

  test("a command cannot take the shared loopback down, rename it, or change the namespace's settings", async () => {
    // SIOCSIFFLAGS with no flags (down), SIOCSIFNAME: both need CAP_NET_ADMIN over the namespace.
    const ioctls = perl(
      'use Socket; socket(my $s, AF_INET, SOCK_DGRAM, 0) or die; for my $r ([0x8914, pack("a16 s x22", "lo", 0)], [0x8923, pack("a16 a16 x8", "lo", "renamed")]) { my $b = $r->[1]; print ioctl($s, $r->[0], $b) ? "ok\\n" : "$!\\n" }',
    );
    const run = await client.exec({ id: "down", argv: ioctls });
    expect(run.stdout).toBe("Operation not permitted\nOperation not permitted\n");
    const sysctl = await client.exec({ id: "sysctl", argv: perl('print open(my $f, ">", "/proc/sys/net/ipv4/ip_forward") ? "opened\\n" : "$!\\n"') });
    expect(sysctl.stdout).not.toBe("opened\n");
    // The listener is still reached: nothing above changed the namespace.
    const again = await client.exec({ id: "reach-again", argv: connectTcp("127.0.0.1", ports.get("127.0.0.1")!) });
    expect(again.stdout).toBe(`connected: ${SENTINEL}\n`);
  });

  test("a persistent shell is in the session's network namespace too", async () => {
    const run = await client.exec({ id: "from-shell", shell: "net", cmd: `perl -MIO::Socket::IP -e 'my $s = IO::Socket::IP->new(PeerHost => "127.0.0.1", PeerPort => ${ports.get("127.0.0.1")}) or die "$!\\n"; print scalar <$s>'` });
    expect(run.exit).toMatchObject({ code: 0 });
    expect(run.stdout).toBe(`${SENTINEL}\n`);
  });

  test("the server holds each session's namespace open while the session lasts, and lets it go with the session", async () => {
    const third = await fixture.connect();
    const run = await third.exec({ id: "own-namespace", argv: ["readlink", "/proc/self/ns/net"] });
    expect(run.exit).toMatchObject({ code: 0 });
    const namespace = run.stdout.trim();
    expect(namespace).toMatch(/^net:\[\d+\]$/);
    expect(networkFdsOf(fixture.server.pid)).toContain(namespace);
    // The first session's commands are in another one.
    const first = await client.exec({ id: "first-namespace", argv: ["readlink", "/proc/self/ns/net"] });
    expect(first.stdout.trim()).not.toBe(namespace);
    third.send({ type: "close" });
    await third.closed;
    expect(networkFdsOf(fixture.server.pid)).not.toContain(namespace);
  });
});
