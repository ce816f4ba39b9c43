import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

const SECRET_VALUE = "server-secret-value-7f3a9c";

describe.skipIf(noBwrap)("the core bwrap policy holds", () => {
  let server: TestServer;
  let client: TestClient;
  let other: TestClient;
  let sentinelDir: string;
  beforeAll(async () => {
    server = await startServer({ args: ["--sandbox", "bwrap"], env: { BUNKER_TEST_SECRET: SECRET_VALUE } });
    client = await connect(server);
    other = await connect(server);
    sentinelDir = mkdtempSync(join(tmpdir(), "bunker-sentinel-"));
    writeFileSync(join(sentinelDir, "sentinel.txt"), "you should not see this");
  });
  afterAll(async () => {
    await client[Symbol.asyncDispose]();
    await other[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
    rmSync(sentinelDir, { recursive: true, force: true });
  });

  test("writing to /etc fails", async () => {
    const run = await client.exec({ id: "etc", cmd: "echo x > /etc/bunker-escape" });
    expect(run.exit.code).not.toBe(0);
    expect(existsSync("/etc/bunker-escape")).toBe(false);
  });

  test("writing to /tmp lands in a private tmpfs, not the host's /tmp", async () => {
    const marker = `bunker-escape-${process.pid}`;
    const run = await client.exec({ id: "tmp", cmd: `echo x > /tmp/${marker} && cat /tmp/${marker}` });
    expect(run.stdout).toBe("x\n");
    expect(existsSync(`/tmp/${marker}`)).toBe(false);
  });

  test("another session's workspace can be neither read nor written", async () => {
    writeFileSync(join(other.hello.workspace, "private.txt"), "other session's data");
    const run = await client.exec({ id: "other", cmd: `cat ${other.hello.workspace}/private.txt; echo x > ${other.hello.workspace}/planted.txt` });
    expect(run.stdout).toBe("");
    expect(run.exit.code).not.toBe(0);
    expect(existsSync(join(other.hello.workspace, "planted.txt"))).toBe(false);
  });

  test("a sentinel outside the workspace and the system directories is invisible", async () => {
    const run = await client.exec({ id: "sentinel", cmd: `cat ${sentinelDir}/sentinel.txt; ls ${sentinelDir}` });
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("No such file or directory");
  });

  test("the host's home, /root, /run and /var are not there", async () => {
    const run = await client.exec({ id: "dirs", cmd: "ls -d /home /root /var /mnt /srv 2>/dev/null; ls /run" });
    expect(run.stdout).toBe("bunker\n");
  });

  test("env shows nothing of the server's environment", async () => {
    const run = await client.exec({ id: "env", argv: ["env"] });
    expect(run.stdout).not.toContain(SECRET_VALUE);
    expect(run.stdout).not.toContain("BUNKER_TEST_SECRET");
    expect(run.stdout).not.toContain(server.token!);
  });

  test("the server's token and environment are not readable through /proc", async () => {
    const run = await client.exec({ id: "proc", cmd: `cat /proc/${server.pid}/environ /proc/${server.pid}/cmdline; grep -rl ${SECRET_VALUE} /proc/*/environ 2>/dev/null` });
    expect(run.stdout).not.toContain(SECRET_VALUE);
    expect(run.stdout).not.toContain(server.token!);
  });

  test("with the network off, the server's own port on 127.0.0.1 cannot be reached", async () => {
    const run = await client.exec({ id: "net", argv: ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${server.port} && echo connected`] });
    expect(run.stdout).toBe("");
    expect(run.exit.code).not.toBe(0);
  });

  test("kill -0 of the server's pid fails: host processes are not visible", async () => {
    const run = await client.exec({ id: "kill0", cmd: `kill -0 ${server.pid} && echo visible` });
    expect(run.stdout).toBe("");
    expect(run.exit.code).not.toBe(0);
    const ps = await client.exec({ id: "ps", cmd: "ls /proc | grep -E '^[0-9]+$' | wc -l" });
    expect(Number(ps.stdout.trim())).toBeLessThanOrEqual(6);
  });

  test("a symlink in the workspace pointing out cannot be used as cwd", async () => {
    await client.exec({ id: "link", cmd: "ln -s / escape" });
    client.send({ type: "exec", id: "via-link", argv: ["ls"], cwd: "escape" });
    expect(await client.next((m) => m.type === "error" && m.id === "via-link")).toMatchObject({ code: "path_outside_workspace" });
  });

  test("writing through a symlink in the workspace cannot reach the host", async () => {
    const target = join(sentinelDir, "through-link.txt");
    const run = await client.exec({ id: "write-link", cmd: `ln -s ${target} out-link && echo x > out-link` });
    expect(run.exit.code).not.toBe(0);
    expect(existsSync(target)).toBe(false);
  });

  test("the hostname is the sandbox's own", async () => {
    const run = await client.exec({ id: "hostname", argv: ["cat", "/proc/sys/kernel/hostname"] });
    expect(run.stdout).toBe("bunker\n");
  });

  test("the command sees only stdin, stdout and stderr as open fds", async () => {
    const run = await client.exec({ id: "fds", cmd: "ls /proc/self/fd" });
    expect(run.stdout.trim().split("\n").sort()).toEqual(["0", "1", "2", "3"]);
  });

  test("no capabilities are left", async () => {
    const run = await client.exec({ id: "caps", cmd: "grep CapEff /proc/self/status" });
    expect(run.stdout).toBe("CapEff:\t0000000000000000\n");
  });

  test("the server's files stay unreadable: its source tree is not mounted", async () => {
    const run = await client.exec({ id: "src", cmd: `ls ${process.cwd()}` });
    expect(run.exit.code).not.toBe(0);
    expect(readFileSync(join(process.cwd(), "package.json"), "utf8")).toContain("bunker");
  });
});
