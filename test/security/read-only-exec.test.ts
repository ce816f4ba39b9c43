import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

/**
 * `readOnly: true` (Codex's read-only sandbox mode, per exec): the command may read the workspace
 * but write nothing on the host, not even through the paths that are writable for other execs.
 */
describe.skipIf(noBwrap)("a read-only exec under bwrap", () => {
  let server: TestServer;
  let client: TestClient;
  let writable: string;
  beforeAll(async () => {
    // Outside /tmp: every sandbox has a private /tmp, which would hide this bind.
    writable = mkdtempSync(join("/var/tmp", "bunker-read-only-"));
    chmodSync(writable, 0o777);
    server = await startServer({ args: ["--allow-write", writable] });
    client = await connect(server);
    // A repository, so that .git is pinned (bound writable onto itself for other execs).
    const setup = await client.exec({ id: "setup", cmd: `mkdir -p .git/hooks src && echo '[core]' > .git/config && echo data > src/file && echo host > ${writable}/kept` });
    expect(setup.exit).toMatchObject({ code: 0 });
  });
  afterAll(async () => {
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
    rmSync(writable, { recursive: true, force: true });
  });

  test("reads the workspace, and writes nothing in it, in .git, in an --allow-write path, or by moving and removing", async () => {
    const run = await client.exec({
      id: "attempts",
      readOnly: true,
      cmd: [
        "cat src/file",
        "echo x > new; echo new $?",
        "echo x >> src/file; echo append $?",
        "rm src/file; echo rm $?",
        "mv src src-away; echo mv $?",
        "mkdir dir; echo mkdir $?",
        "echo x > .git/HEAD; echo git-head $?",
        "mkdir .git/refs; echo git-mkdir $?",
        `echo x > ${writable}/new; echo allow-write $?`,
        `rm ${writable}/kept; echo allow-write-rm $?`,
        "touch $HOME/.profile; echo home $?",
      ].join("; "),
    });
    // dash exits 2 when a redirection fails.
    expect(run.stdout).toBe("data\nnew 2\nappend 2\nrm 1\nmv 1\nmkdir 1\ngit-head 2\ngit-mkdir 1\nallow-write 2\nallow-write-rm 1\nhome 1\n");
    expect(run.stderr).toContain("Read-only file system");
    const workspace = client.hello.workspace;
    expect(existsSync(join(workspace, "new"))).toBe(false);
    expect(existsSync(join(workspace, "dir"))).toBe(false);
    expect(existsSync(join(workspace, ".git/HEAD"))).toBe(false);
    expect(readFileSync(join(workspace, "src/file"), "utf8")).toBe("data\n");
    expect(existsSync(join(writable, "new"))).toBe(false);
    expect(readFileSync(join(writable, "kept"), "utf8")).toBe("host\n");
  });

  test("keeps its private /tmp writable, and the next exec without readOnly writes the workspace again", async () => {
    const scratch = await client.exec({ id: "tmp", readOnly: true, cmd: "echo scratch > /tmp/x && cat /tmp/x && mktemp >/dev/null && echo ok" });
    expect(scratch.stdout).toBe("scratch\nok\n");
    const after = await client.exec({ id: "after", cmd: "echo y > later && cat later" });
    expect(after.stdout).toBe("y\n");
  });

  test("holds for a PTY exec", async () => {
    const run = await client.exec({ id: "pty", readOnly: true, pty: { cols: 80, rows: 24 }, cmd: "touch pty-file; echo status $?" });
    expect(run.stdout).toContain("status 1");
    expect(existsSync(join(client.hello.workspace, "pty-file"))).toBe(false);
  });

  test("a persistent shell started read-only stays so for every command, and a mismatched request is refused with the reason", async () => {
    const first = await client.exec({ id: "sh-1", shell: "ro", readOnly: true, cmd: "cd src && cat file" });
    expect(first.stdout).toBe("data\n");
    // Later commands need not say it again: the shell is read-only for its whole life.
    const second = await client.exec({ id: "sh-2", shell: "ro", cmd: "touch shell-file; echo status $?" });
    expect(second.stdout).toBe("status 1\n");
    expect(existsSync(join(client.hello.workspace, "src/shell-file"))).toBe(false);

    const widened = await client.exec({ id: "sh-3", shell: "ro", readOnly: false, cmd: "true" });
    expect(widened.errors[0]).toMatchObject({ code: "bad_message" });
    expect(widened.errors[0]?.message).toContain('shell "ro" was started read-only');

    await client.exec({ id: "sh-w", shell: "rw", cmd: "true" });
    const narrowed = await client.exec({ id: "sh-4", shell: "rw", readOnly: true, cmd: "touch x" });
    expect(narrowed.errors[0]).toMatchObject({ code: "bad_message" });
    expect(narrowed.errors[0]?.message).toContain('shell "rw" was started with a writable workspace');
    expect(existsSync(join(client.hello.workspace, "x"))).toBe(false);
  });

  test("a read-only shell that ended and is started again by the next command stays read-only, unless that command says readOnly: false", async () => {
    await client.exec({ id: "again-1", shell: "again", readOnly: true, cmd: "true" });
    const ended = await client.exec({ id: "again-2", shell: "again", cmd: "exit 3" });
    expect(ended.exit).toMatchObject({ code: 3 });
    // A fresh bash, started by a command that did not repeat readOnly.
    const restarted = await client.exec({ id: "again-3", shell: "again", cmd: "touch after-restart; echo status $?" });
    expect(restarted.stdout).toBe("status 1\n");
    expect(existsSync(join(client.hello.workspace, "after-restart"))).toBe(false);
    await client.exec({ id: "again-4", shell: "again", cmd: "exit 0" });
    const widened = await client.exec({ id: "again-5", shell: "again", readOnly: false, cmd: "touch said-so; echo status $?" });
    expect(widened.stdout).toBe("status 0\n");
  });

  test("readOnly that is not a boolean is bad_message, naming the field", async () => {
    const run = await client.exec({ id: "bad", readOnly: "yes", cmd: "true" });
    expect(run.errors[0]).toMatchObject({ code: "bad_message" });
    expect(run.errors[0]?.message).toContain("readOnly");
  });
});

test("a server without a sandbox refuses a read-only exec with sandbox_unavailable, and runs nothing", async () => {
  await using server = await startServer({ args: ["--sandbox", "none"] });
  await using client = await connect(server);
  const run = await client.exec({ id: "ro", readOnly: true, cmd: "touch refused" });
  expect(run.errors[0]).toMatchObject({ code: "sandbox_unavailable" });
  expect(run.errors[0]?.message).toContain("cannot run read-only execs");
  expect(run.messages.some((message) => message.type === "started")).toBe(false);
  expect(existsSync(join(client.hello.workspace, "refused"))).toBe(false);
  // readOnly: false asks for nothing and runs.
  expect((await client.exec({ id: "rw", readOnly: false, cmd: "touch allowed" })).exit).toMatchObject({ code: 0 });
});
