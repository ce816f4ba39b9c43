// Escape suite controls: the same attempts with a protection removed succeed, so the escape tests
// would notice that protection going missing (docs/SECURITY.md, "Escape suite"). Two servers:
// `--sandbox none --run-as 0:0` (no sandbox, commands as root: everything removed) and
// `--sandbox bwrap --run-as 0:0` (the sandbox without run-as). Both need a root test run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { TEST_TOKEN } from "../helpers/server-process.ts";
import { HOST_FILE_SENTINEL, SERVER_SECRET, serverIsRoot, SSH_KEY_SENTINEL, startEscapeFixture, type EscapeFixture } from "./helpers/escape-fixture.ts";
import { listenTcpSentinel, listenUnixSentinel } from "./helpers/host-probes.ts";
import { connectTcp, connectUnix } from "./helpers/perl-attempts.ts";

const SENTINEL = "control-service-sentinel-5e27";

describe.skipIf(!serverIsRoot)("escape suite controls: no sandbox, commands as root", () => {
  let fixture: EscapeFixture;
  let client: TestClient;
  let other: TestClient;
  beforeAll(async () => {
    fixture = await startEscapeFixture({ args: ["--sandbox", "none", "--run-as", "0:0"] });
    client = await fixture.connect();
    other = await fixture.connect();
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  test("/proc/<server pid>/environ gives away the server's secret", async () => {
    const run = await client.exec({ id: "environ", argv: ["cat", `/proc/${fixture.server.pid}/environ`] });
    expect(run.stdout).toContain(SERVER_SECRET);
  });

  test("/proc/<server pid>/cmdline gives away the token", async () => {
    const run = await client.exec({ id: "cmdline", argv: ["cat", `/proc/${fixture.server.pid}/cmdline`] });
    expect(run.stdout).toContain(TEST_TOKEN);
  });

  test("~/.ssh is readable", async () => {
    const run = await client.exec({ id: "ssh", argv: ["cat", fixture.sshKeyPath] });
    expect(run.stdout).toBe(`${SSH_KEY_SENTINEL}\n`);
  });

  test("a host directory outside the workspace takes a write, by absolute path and by `..`", async () => {
    const run = await client.exec({ id: "write", cmd: `echo planted > ${join(fixture.outsideDir, "absolute.txt")}; cat ../../outside/sentinel.txt` });
    expect(run.stdout).toBe(`${HOST_FILE_SENTINEL}\n`);
    expect(readFileSync(join(fixture.outsideDir, "absolute.txt"), "utf8")).toBe("planted\n");
  });

  test("another session's workspace is readable", async () => {
    writeFileSync(join(other.hello.workspace, "private.txt"), "other session's data\n");
    const run = await client.exec({ id: "other", argv: ["cat", join(other.hello.workspace, "private.txt")] });
    expect(run.stdout).toBe("other session's data\n");
  });

  test("kill -0 <server pid> finds the server", async () => {
    const run = await client.exec({ id: "kill0", cmd: `kill -0 ${fixture.server.pid} && echo alive` });
    expect(run.stdout).toBe("alive\n");
  });

  test("the server's port and another loopback service answer", async () => {
    const service = listenTcpSentinel(SENTINEL);
    try {
      const run = await client.exec({ id: "loopback", argv: connectTcp("127.0.0.1", service.port) });
      expect(run.stdout).toBe(`connected: ${SENTINEL}\n`);
      const own = await client.exec({ id: "own-port", argv: connectTcp("127.0.0.1", fixture.server.port, "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n") });
      expect(own.stdout).toBe("connected: HTTP/1.1 200 OK\r\n");
    } finally {
      service.stop();
    }
  });

  test("a host unix socket answers", async () => {
    const service = listenUnixSentinel(SENTINEL, join(client.hello.workspace, "host.sock"));
    try {
      const run = await client.exec({ id: "unix", argv: connectUnix("host.sock") });
      expect(run.stdout).toBe(`connected: ${SENTINEL}\n`);
    } finally {
      service.stop();
    }
  });
});

describe.skipIf(noBwrap || !serverIsRoot)("escape suite controls: bwrap without run-as", () => {
  let fixture: EscapeFixture;
  let client: TestClient;
  beforeAll(async () => {
    fixture = await startEscapeFixture({ args: ["--sandbox", "bwrap", "--run-as", "0:0"] });
    client = await fixture.connect();
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  test("/etc/shadow is readable by its owner, the host's root", async () => {
    const run = await client.exec({ id: "shadow", argv: ["head", "-c", "5", "/etc/shadow"] });
    expect(run.stdout).toBe("root:");
  });

  test("a setuid shell planted in the workspace is a setuid-root binary on the host", async () => {
    const run = await client.exec({ id: "setuid", cmd: "cp /bin/sh suid-sh && chmod 4755 suid-sh" });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    const planted = statSync(join(client.hello.workspace, "suid-sh"));
    expect({ uid: planted.uid, mode: planted.mode & 0o7777 }).toEqual({ uid: 0, mode: 0o4755 });
  });

  test("the confinement still holds: the sandbox, not run-as, hides the host's files", async () => {
    const run = await client.exec({ id: "ssh", argv: ["cat", fixture.sshKeyPath] });
    expect(run.stdout).toBe("");
    expect(existsSync(fixture.sshKeyPath)).toBe(true);
  });
});
