import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

const asRoot = process.geteuid?.() === 0;

describe.skipIf(noBwrap || !asRoot)("a root server never runs commands as root", () => {
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    server = await startServer();
    client = await connect(server);
  });
  afterAll(async () => {
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
  });

  test("hello reports the policy: run-as nobody, seccomp, resource limits, the /tmp cap", () => {
    expect(client.hello.sandbox.policy).toMatchObject({
      runAs: { uid: 65534, gid: 65534 },
      seccomp: true,
      rlimits: { cpuSeconds: 600, processes: 1024 },
      tmpSizeBytes: 512 * 1024 * 1024,
    });
  });

  test("commands run as uid 65534 with no capabilities, and what they create is 65534's on the host", async () => {
    const run = await client.exec({ id: "who", cmd: "id -u; id -g; grep CapEff /proc/self/status; echo data > made-here" });
    expect(run.stdout).toBe("65534\n65534\nCapEff:\t0000000000000000\n");
    const made = statSync(join(client.hello.workspace, "made-here"));
    expect([made.uid, made.gid]).toEqual([65534, 65534]);
  });

  test("a root-only file in a bound system directory cannot be read: /etc/shadow", async () => {
    const run = await client.exec({ id: "shadow", argv: ["cat", "/etc/shadow"] });
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("/usr/bin/cat: /etc/shadow: Permission denied\n");
    expect(run.exit.code).toBe(1);
  });
});

describe.skipIf(noBwrap)("resource limits", () => {
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    server = await startServer({ args: ["--tmp-size-bytes", String(8 * 1024 * 1024)] });
    client = await connect(server);
  });
  afterAll(async () => {
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
  });

  test("a request may lower a limit but not raise it", async () => {
    client.send({ type: "exec", id: "raise", argv: ["true"], rlimits: { processes: 1_000_000 } });
    expect(await client.next((m) => "id" in m && m.id === "raise")).toMatchObject({ type: "error", code: "forbidden_by_policy" });
    const lowered = await client.exec({ id: "lower", cmd: "ulimit -p; ulimit -n", rlimits: { processes: 50, openFiles: 64 } });
    expect(lowered.stdout).toBe("50\n64\n");
  });

  test("the limits hold by default: ulimit shows them and core dumps are off", async () => {
    const run = await client.exec({ id: "defaults", cmd: "ulimit -t; ulimit -v; ulimit -f; ulimit -n; ulimit -p; ulimit -c" });
    // dash reports -v in KiB and -f in 512-byte blocks; -p is its name for processes.
    expect(run.stdout).toBe(`600\n${(8 * 1024 ** 3) / 1024}\n${(2 * 1024 ** 3) / 512}\n4096\n1024\n0\n`);
  });

  test("a fork bomb is contained, and another session gets echo ok meanwhile", async () => {
    client.send({
      type: "exec",
      id: "bomb",
      cmd: "bomb() { bomb | bomb & }; bomb; sleep 2",
      rlimits: { processes: 64 },
      timeoutMs: 10_000,
    });
    await client.next((m) => m.type === "started" && m.id === "bomb");
    await using other = await connect(server);
    const ok = await other.exec({ id: "ok", argv: ["echo", "ok"] });
    expect(ok.stdout).toBe("ok\n");
    expect(ok.exit.code).toBe(0);
    const bomb = await client.runToExit("bomb");
    expect(bomb.stderr).toContain("Cannot fork");
    // When the exec ends its namespace goes, with every process the bomb made.
    expect(bomb.exit.reason).toBe("exited");
  }, 15_000);

  test("a memory hog dies at its address-space limit and the server goes on", async () => {
    const run = await client.exec({
      id: "hog",
      argv: ["perl", "-e", '$x = "a" x (512 * 1024 * 1024); print "allocated\\n"'],
      rlimits: { addressSpaceBytes: 256 * 1024 * 1024 },
    });
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("Out of memory");
    expect(run.exit.code).not.toBe(0);
    expect((await client.exec({ id: "after-hog", argv: ["echo", "alive"] })).stdout).toBe("alive\n");
  });

  test("a write past the file-size limit fails", async () => {
    const run = await client.exec({ id: "fsize", cmd: "head -c 2000000 /dev/zero > big; echo status $?; wc -c < big", rlimits: { fileSizeBytes: 1_000_000 } });
    expect(run.stdout).toMatch(/^status (153|1)\n1000000\n$/);
  });

  test("a CPU spin dies at the CPU limit", async () => {
    const run = await client.exec({ id: "spin", argv: ["perl", "-e", "1 while 1"], rlimits: { cpuSeconds: 1 }, timeoutMs: 10_000 });
    expect(run.exit).toMatchObject({ code: null, reason: "signaled" });
    expect(["SIGXCPU", "SIGKILL"]).toContain(run.exit.signal!);
  }, 15_000);

  test("filling /tmp stops at its cap", async () => {
    const run = await client.exec({ id: "tmp", cmd: "head -c 20000000 /dev/zero > /tmp/fill; echo status $?; wc -c < /tmp/fill" });
    expect(run.stderr).toContain("No space left on device");
    const [status, size] = run.stdout.trim().split("\n");
    expect(status).toBe("status 1");
    expect(Number(size)).toBeLessThanOrEqual(8 * 1024 * 1024);
  });
});
