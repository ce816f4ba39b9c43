import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

describe.skipIf(noBwrap)("protected paths and extra host paths", () => {
  let server: TestServer;
  let client: TestClient;
  let readable: string;
  let writable: string;
  beforeAll(async () => {
    // Outside /tmp: every sandbox has a private /tmp, which would hide these binds' parents' view.
    readable = mkdtempSync(join("/var/tmp", "bunker-allow-read-"));
    writable = mkdtempSync(join("/var/tmp", "bunker-allow-write-"));
    for (const dir of [readable, writable]) chmodSync(dir, 0o777);
    writeFileSync(join(readable, "input.txt"), "from the host\n");
    chmodSync(join(readable, "input.txt"), 0o644);
    server = await startServer({ args: ["--protect", ".env", "--allow-read", readable, "--allow-write", writable] });
    client = await connect(server);
  });
  afterAll(async () => {
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
    rmSync(readable, { recursive: true, force: true });
    rmSync(writable, { recursive: true, force: true });
  });

  test("hello lists the protected and allowed paths", () => {
    expect(client.hello.sandbox.policy).toMatchObject({ protect: [".git/hooks", ".git/config", ".env"], allowRead: [readable], allowWrite: [writable] });
    // The allowed paths are in bwrap's setup namespace too: nothing was given up for them.
    expect(client.hello.sandbox).not.toHaveProperty("notEnforced");
  });

  test(".git/hooks and .git/config are read-only when present, and cannot be moved away, nor .git with them", async () => {
    await client.exec({ id: "setup", cmd: "mkdir -p .git/hooks && echo '[core]' > .git/config && echo ok > .git/hooks/keep" });
    const run = await client.exec({
      id: "attack",
      cmd: [
        "echo evil > .git/hooks/pre-commit; echo hook $?",
        "echo '[alias]' >> .git/config; echo config $?",
        "mv .git/hooks .git/old-hooks; echo move $?",
        // A .git of the command's own, with its own hooks, in place of the protected one.
        "mv .git .git-away; echo git-move $?",
        "rmdir .git 2>/dev/null; echo git-rmdir $?",
        "cat .git/config .git/hooks/keep",
        "echo fine > .git/HEAD; echo head $?",
        "mkdir .git/refs && mv .git/HEAD .git/refs/HEAD && mv .git/refs/HEAD .git/HEAD; echo inside-move $?",
      ].join("; "),
    });
    // dash exits 2 when a redirection fails.
    expect(run.stdout).toBe("hook 2\nconfig 2\nmove 1\ngit-move 1\ngit-rmdir 1\n[core]\nok\nhead 0\ninside-move 0\n");
    expect(run.stderr).toContain("Device or resource busy");
    expect(run.stderr).toContain("Read-only file system");
    expect(existsSync(join(client.hello.workspace, ".git/hooks/pre-commit"))).toBe(false);
    expect(readFileSync(join(client.hello.workspace, ".git/config"), "utf8")).toBe("[core]\n");
  });

  test("a protected path swapped for a symlink to the host is not followed: nothing of the host is bound", async () => {
    await using fresh = await connect(server);
    // Created while nothing protects them (they did not exist when this exec started).
    await fresh.exec({ id: "swap", cmd: "mkdir .git && ln -s /var/lib .git/hooks && ln -s /var/lib/dpkg/status .env" });
    const run = await fresh.exec({ id: "look", cmd: "ls .git/hooks/ 2>&1; echo ls $?; cat .env 2>&1; echo cat $?" });
    // /var/lib is not in the sandbox: had the server followed the links, bwrap would have bound the host's.
    expect(run.stdout).toMatch(/^ls: cannot access '\.git\/hooks\/': No such file or directory\nls 2\n.*\.env: No such file or directory\ncat 1\n$/);
  });

  test("a protected file with another hard link is refused, not half protected: the other name would stay writable", async () => {
    await using fresh = await connect(server);
    // The exec that creates .git is not protected yet: it links the config elsewhere.
    await fresh.exec({ id: "link", cmd: "mkdir -p .git/hooks && echo '[core]' > .git/config && ln .git/config cfg" });
    fresh.send({ type: "exec", id: "write", cmd: "echo '[core] fsmonitor = evil' > cfg" });
    const refused = await fresh.next((m) => m.type === "error" && m.id === "write");
    expect(refused).toMatchObject({ code: "forbidden_by_policy" });
    expect((refused as { message: string }).message).toStartWith(".git/config has 2 hard links");
    expect(readFileSync(join(fresh.hello.workspace, ".git/config"), "utf8")).toBe("[core]\n");
    // Once the other name is gone, execs run again, protected.
    rmSync(join(fresh.hello.workspace, "cfg"));
    const run = await fresh.exec({ id: "again", cmd: "echo x >> .git/config; echo $?" });
    expect(run.stdout).toBe("2\n");
  });

  test("a hook with another hard link, or a hooks directory too big to check, is refused the same way", async () => {
    await using fresh = await connect(server);
    await fresh.exec({ id: "link", cmd: "mkdir -p .git/hooks && echo ok > .git/hooks/pre-commit && ln .git/hooks/pre-commit hook" });
    fresh.send({ type: "exec", id: "write", argv: ["true"] });
    expect(await fresh.next((m) => m.type === "error" && m.id === "write")).toMatchObject({ code: "forbidden_by_policy", message: expect.stringContaining(".git/hooks/pre-commit has 2 hard links") });
    rmSync(join(fresh.hello.workspace, "hook"));
    // Made on the host: no exec runs while a linked hook is there.
    for (let index = 0; index < 1001; index++) writeFileSync(join(fresh.hello.workspace, ".git/hooks", `h${index}`), "");
    fresh.send({ type: "exec", id: "after", argv: ["true"] });
    expect(await fresh.next((m) => m.type === "error" && m.id === "after")).toMatchObject({ code: "forbidden_by_policy", message: expect.stringContaining("more than the 1000") });
  });

  test("a protected path that does not exist leaves nothing behind on the host", async () => {
    await using fresh = await connect(server);
    await fresh.exec({ id: "plain", argv: ["true"] });
    expect(existsSync(join(fresh.hello.workspace, ".git"))).toBe(false);
    expect(existsSync(join(fresh.hello.workspace, ".env"))).toBe(false);
  });

  test("--protect adds a path: .env is read-only once it exists", async () => {
    await using fresh = await connect(server);
    await fresh.exec({ id: "make", cmd: "echo SECRET=1 > .env" });
    const run = await fresh.exec({ id: "write", cmd: "echo SECRET=2 > .env; echo $?; cat .env" });
    expect(run.stdout).toBe("2\nSECRET=1\n");
  });

  test("--allow-read paths are readable and not writable; --allow-write paths are writable", async () => {
    const run = await client.exec({
      id: "allowed",
      cmd: `cat ${readable}/input.txt; echo x > ${readable}/new 2>/dev/null; echo read-only $?; echo out > ${writable}/result; echo written $?`,
    });
    expect(run.stdout).toBe("from the host\nread-only 2\nwritten 0\n");
    expect(readFileSync(join(writable, "result"), "utf8")).toBe("out\n");
  });

  test("a program in an --allow-read path is found on PATH, directly or through a workspace symlink", async () => {
    writeFileSync(join(readable, "tool"), "#!/bin/sh\necho tool ran\n");
    chmodSync(join(readable, "tool"), 0o755);
    await client.exec({ id: "link-tool", cmd: `mkdir -p bin && ln -sf ${readable}/tool bin/tool` });
    const direct = await client.exec({ id: "direct", argv: ["tool"], env: { PATH: `${readable}:/usr/bin:/bin` } });
    expect(direct.stdout).toBe("tool ran\n");
    const linked = await client.exec({ id: "linked", argv: ["tool"], env: { PATH: `${client.hello.workspace}/bin:/usr/bin:/bin` } });
    expect(linked.stdout).toBe("tool ran\n");
  });
});
