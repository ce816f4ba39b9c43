// Escape suite: sockets with the network off (docs/SECURITY.md, "Escape suite").
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startEscapeFixture, type EscapeFixture } from "./helpers/escape-fixture.ts";
import { hostExternalIPv4, listenTcpSentinel, listenUnixSentinel, type SentinelService } from "./helpers/host-probes.ts";
import { connectTcp, connectUnix, perl, rawSyscall } from "./helpers/perl-attempts.ts";

const SENTINEL = "host-service-sentinel-91c3";

describe.skipIf(noBwrap)("escape suite: the network is off", () => {
  let fixture: EscapeFixture;
  let client: TestClient;
  const services: SentinelService[] = [];
  beforeAll(async () => {
    fixture = await startEscapeFixture();
    client = await fixture.connect();
  });
  afterAll(async () => {
    for (const service of services) service.stop();
    await fixture?.dispose();
  });

  function listen(service: SentinelService): SentinelService {
    services.push(service);
    return service;
  }

  test("the server's own port on 127.0.0.1 is refused: loopback is the sandbox's own", async () => {
    const run = await client.exec({ id: "own-port", argv: connectTcp("127.0.0.1", fixture.server.port) });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("Connection refused\n");
  });

  test("the server's port on ::1 is refused too", async () => {
    const run = await client.exec({ id: "own-port-v6", argv: connectTcp("::1", fixture.server.port) });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("Connection refused\n");
  });

  test("another service on the host's loopback is refused and sees no connection", async () => {
    const service = listen(listenTcpSentinel(SENTINEL));
    const run = await client.exec({ id: "loopback-service", argv: connectTcp("127.0.0.1", service.port) });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("Connection refused\n");
    expect(service.accepted()).toBe(0);
  });

  test("the host's external address is unreachable: there is no route out", async () => {
    const run = await client.exec({ id: "external", argv: connectTcp(hostExternalIPv4(), fixture.server.port) });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("Network is unreachable\n");
  });

  test("the only network interface inside is the sandbox's own loopback", async () => {
    const run = await client.exec({ id: "interfaces", argv: perl('open(my $f, "<", "/proc/net/dev") or die; <$f> for 1..2; print map { /^\\s*([^:]+):/ ? "$1\\n" : () } <$f>') });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stdout).toBe("lo\n");
  });

  test("a host unix socket in the workspace, the one directory both sides share, cannot be connected to", async () => {
    const service = listen(listenUnixSentinel(SENTINEL, join(client.hello.workspace, "host.sock")));
    const run = await client.exec({ id: "unix", argv: connectUnix("host.sock") });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    // IO::Socket::UNIX reports the refused socket(AF_UNIX) itself.
    expect(run.stdout).toBe("Operation not permitted\n");
    expect(service.accepted()).toBe(0);
  });

  test("a host abstract unix socket cannot be connected to", async () => {
    const service = listen(listenUnixSentinel(SENTINEL, `@bunker-escape-${process.pid}`));
    const run = await client.exec({ id: "abstract", argv: connectUnix(service.address) });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("Operation not permitted\n");
    expect(service.accepted()).toBe(0);
  });

  test("a datagram socketpair, which could sendto() any unix address, cannot be made", async () => {
    const run = await client.exec({
      id: "dgram-pair",
      argv: perl('use Socket; socketpair(my $a, my $b, AF_UNIX, SOCK_DGRAM, 0) or do { print "$!\\n"; exit 1 }; print "made\\n"'),
    });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("Operation not permitted\n");
  });

  test("the host's daemon sockets (docker, dbus, systemd) are not there", async () => {
    const run = await client.exec({ id: "run-sockets", cmd: "ls /var/run/docker.sock /run/dbus/system_bus_socket /run/systemd/private" });
    expect(run.exit).toMatchObject({ code: 2, reason: "exited" });
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/ls: cannot access '\/var\/run\/docker\.sock': No such file or directory$/),
      expect.stringMatching(/ls: cannot access '\/run\/dbus\/system_bus_socket': No such file or directory$/),
      expect.stringMatching(/ls: cannot access '\/run\/systemd\/private': No such file or directory$/),
    ]);
  });
});

describe.skipIf(noBwrap)("escape suite: netlink with the network on (the host's network namespace)", () => {
  let fixture: EscapeFixture;
  let client: TestClient;
  beforeAll(async () => {
    fixture = await startEscapeFixture({ args: ["--sandbox", "bwrap", "--allow-network"] });
    client = await fixture.connect();
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  test("NETLINK_SOCK_DIAG (the host's sockets), KOBJECT_UEVENT (its device events) and GENERIC cannot be opened", async () => {
    for (const [name, protocol] of [["diag", 4], ["uevent", 15], ["generic", 16]] as const) {
      const run = await client.exec({ id: `netlink-${name}`, argv: rawSyscall("socket", 16, 3, protocol) });
      expect([name, run.stdout]).toEqual([name, "Operation not permitted\n"]);
    }
  });

  test("NETLINK_ROUTE still lists the interfaces: perl's raw socket, `ip addr`, node's os.networkInterfaces()", async () => {
    const route = await client.exec({ id: "netlink-route", argv: rawSyscall("socket", 16, 3, 0) });
    expect(route.stdout).toMatch(/^ok \d+\n$/);
    const ip = Bun.which("ip", { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" });
    if (ip?.startsWith("/usr/") || ip?.startsWith("/sbin/")) {
      const run = await client.exec({ id: "ip-addr", argv: [ip, "-brief", "address", "show", "lo"] });
      expect({ code: run.exit.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
      expect(run.stdout).toMatch(/^lo\s+UNKNOWN\s+127\.0\.0\.1\/8/);
    } else console.warn("skipping `ip addr`: iproute2 is not installed");
    const node = Bun.which("node");
    if (node?.startsWith("/usr/")) {
      const run = await client.exec({ id: "node-interfaces", argv: [node, "-e", "console.log(Object.keys(require('os').networkInterfaces()).includes('lo'))"] });
      expect({ code: run.exit.code, stdout: run.stdout, stderr: run.stderr }).toEqual({ code: 0, stdout: "true\n", stderr: "" });
    } else console.warn("skipping os.networkInterfaces(): no node under /usr");
  });
});
