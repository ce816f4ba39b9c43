import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

describe.skipIf(noBwrap)("persistent shells over the wire", () => {
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    server = await startServer({ args: ["--sandbox", "bwrap"] });
    client = await connect(server);
  });
  afterAll(async () => {
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
  });

  test("cd in one exec holds in the next, and exit carries the shell's cwd", async () => {
    const workspace = client.hello.workspace;
    const first = await client.exec({ id: "s1", shell: "main", cmd: "mkdir -p a/b && cd a/b" });
    expect(first.exit).toEqual({ type: "exit", id: "s1", code: 0, signal: null, reason: "exited", durationMs: first.exit.durationMs, cwd: join(workspace, "a/b") });
    const second = await client.exec({ id: "s2", shell: "main", cmd: "pwd; echo err >&2; exit_code=5; (exit $exit_code)" });
    expect(second.stdout).toBe(`${join(workspace, "a/b")}\n`);
    expect(second.stderr).toBe("err\n");
    expect(second.exit).toMatchObject({ code: 5, cwd: join(workspace, "a/b") });
    const other = await client.exec({ id: "s3", shell: "other", cmd: "pwd" });
    expect(other.stdout).toBe(`${workspace}\n`);
  });

  test("signal SIGINT interrupts the command and the shell lives on", async () => {
    client.send({ type: "exec", id: "i1", shell: "main", cmd: "echo go; sleep 100" });
    await client.next((m) => m.type === "output" && m.id === "i1");
    client.send({ type: "signal", id: "i1", signal: "SIGINT" });
    const run = await client.runToExit("i1");
    expect(run.exit).toMatchObject({ code: null, signal: "SIGINT", reason: "killed" });
    expect((await client.exec({ id: "i2", shell: "main", cmd: "echo alive" })).stdout).toBe("alive\n");
  });

  test("a command whose program handles SIGINT ends as that program does, as a plain exec of it would", async () => {
    const script = 'trap "echo caught; exit 0" INT; echo ready; while :; do sleep 0.05; done';
    const endOf = async (id: string, request: Record<string, unknown>) => {
      client.send({ type: "exec", id, ...request });
      await client.next((m) => m.type === "output" && m.id === id);
      client.send({ type: "signal", id, signal: "SIGINT" });
      const { code, signal, reason } = (await client.runToExit(id)).exit;
      return { code, signal, reason };
    };
    const plain = await endOf("h1", { argv: ["bash", "-c", script] });
    expect(plain).toEqual({ code: 0, signal: null, reason: "exited" });
    expect(await endOf("h2", { shell: "main", cmd: `bash -c '${script}'` })).toEqual(plain);
  });

  test("refuses stdin, and cwd for a shell that already runs", async () => {
    client.send({ type: "exec", id: "r1", shell: "main", cmd: "cat", stdin: true });
    expect(await client.next((m) => m.type === "error" && m.id === "r1")).toMatchObject({ code: "bad_message" });
    client.send({ type: "exec", id: "r2", shell: "main", cmd: "pwd", cwd: "a" });
    expect(await client.next((m) => m.type === "error" && m.id === "r2")).toMatchObject({ code: "bad_message" });
  });

  test("exit ends the shell; the next exec with its name starts a new one", async () => {
    const bye = await client.exec({ id: "e1", shell: "main", cmd: "exit 3" });
    expect(bye.exit).toMatchObject({ code: 3, reason: "exited" });
    const fresh = await client.exec({ id: "e2", shell: "main", cmd: "pwd", cwd: "a" });
    expect(fresh.stdout).toBe(`${join(client.hello.workspace, "a")}\n`);
  });

  test("reports a command's errors as bash -c reports the same command's, not by the shell's plumbing", async () => {
    // bash -c as a plain exec runs bash by the name `bash`: the form a user would compare with.
    const bashC = (cmd: string, readOnly: boolean) => ({ argv: ["sh", "-c", 'exec bash -c "$1"', "sh", cmd], readOnly });
    const commands = ["nosuchcmd", "echo one\nnosuchcmd two", "cd /nonexistent", "echo x >/proc/nope", "echo $((1/0))", "readonly r=1; r=2"];
    for (const [index, cmd] of commands.entries()) {
      const plain = await client.exec({ id: `be${index}`, ...bashC(cmd, false) });
      const inShell = await client.exec({ id: `se${index}`, shell: "errors", cmd });
      expect(plain.stderr).toMatch(/^bash: line \d: /);
      expect({ stderr: inShell.stderr, code: inShell.exit.code }).toEqual({ stderr: plain.stderr, code: plain.exit.code });
    }
    const readOnlyPlain = await client.exec({ id: "bro", ...bashC("echo x >written", true) });
    const readOnlyShell = await client.exec({ id: "sro", shell: "read-only", cmd: "echo x >written", readOnly: true });
    expect(readOnlyShell.stderr).toBe("bash: line 1: written: Read-only file system\n");
    expect(readOnlyShell.stderr).toBe(readOnlyPlain.stderr);
  });

  test("list shows shell execs with their shell", async () => {
    client.send({ type: "list", id: "l" });
    const list = await client.next((m) => m.type === "execs");
    expect((list as { execs: { id: string; shell?: string }[] }).execs.find((exec) => exec.id === "s1")).toMatchObject({ shell: "main", state: "exited" });
  });
});

describe.skipIf(noBwrap)("persistent shells count against the exec limits", () => {
  test("a live shell holds a slot of --max-execs-per-session and --max-execs; its commands ride on it", async () => {
    await using server = await startServer({ args: ["--sandbox", "bwrap", "--max-execs-per-session", "1", "--max-execs", "2"] });
    await using first = await connect(server);
    // A background job outlives the command: the shell, not the command, is what holds resources.
    expect((await first.exec({ id: "a1", shell: "main", cmd: "sleep 30 & echo started" })).stdout).toBe("started\n");
    expect((await first.exec({ id: "a2", shell: "main", cmd: "echo again" })).stdout).toBe("again\n");
    first.send({ type: "exec", id: "a3", argv: ["true"] });
    expect(await first.next((m) => m.type === "error" && m.id === "a3")).toMatchObject({ code: "limit_exceeded" });
    first.send({ type: "exec", id: "a4", shell: "second", cmd: "true" });
    expect(await first.next((m) => m.type === "error" && m.id === "a4")).toMatchObject({ code: "limit_exceeded" });

    await using second = await connect(server);
    expect((await second.exec({ id: "b1", shell: "main", cmd: "true" })).exit).toMatchObject({ code: 0 });
    await using third = await connect(server);
    third.send({ type: "exec", id: "c1", argv: ["true"] });
    const refused = await third.next((m) => m.type === "error" && m.id === "c1");
    expect(refused).toMatchObject({ code: "limit_exceeded", message: "the server already runs 2 execs and persistent shells, the most it may" });

    // Commands waiting in a live shell take no slot, so the shell bounds them itself.
    first.send({ type: "exec", id: "busy", shell: "main", cmd: "sleep 7.77" });
    await first.next((m) => m.type === "started" && m.id === "busy");
    for (let index = 0; index < 16; index++) first.send({ type: "exec", id: `q${index}`, shell: "main", cmd: "true" });
    first.send({ type: "exec", id: "q16", shell: "main", cmd: "true" });
    expect(await first.next((m) => m.type === "error" && m.id === "q16")).toMatchObject({ code: "limit_exceeded" });
    expect(first.takeQueued((m) => m.type === "error" && String(m.id).startsWith("q"))).toEqual([]);
    first.send({ type: "signal", id: "busy", signal: "SIGINT" });
    await first.runToExit("q15");

    // Once the first session's shell has ended, its slot is free again.
    expect((await first.exec({ id: "a5", shell: "main", cmd: "exit 0" })).exit).toMatchObject({ code: 0 });
    expect((await third.exec({ id: "c2", argv: ["echo", "in"] })).stdout).toBe("in\n");
  });
});

// bash gave the SIGINT trap the first program's status (0 for `true`): the command went on after
// `sleep` died of it. Over the wire, under each backend (the shell's file for `jobs -l` lies in
// the sandbox's /tmp under bwrap, in the session's .tmp under none).
for (const sandbox of ["bwrap", "none"] as const) {
  describe.skipIf(sandbox === "bwrap" && noBwrap)(`a SIGINT to a pipeline whose first program had exited, --sandbox ${sandbox}`, () => {
    test("ends the command", async () => {
      await using server = await startServer({ args: ["--sandbox", sandbox] });
      await using client = await connect(server);
      client.send({ type: "exec", id: "p1", shell: "main", cmd: "echo started; true | sleep 100; echo not reached" });
      const first = await client.next((m) => m.type === "output" && m.id === "p1");
      client.send({ type: "signal", id: "p1", signal: "SIGINT" });
      const run = await client.runToExit("p1");
      const stdout = ("data" in first ? String(first.data) : "") + run.stdout;
      expect({ stdout, exit: run.exit }).toMatchObject({ stdout: "started\n", exit: { code: null, signal: "SIGINT", reason: "killed" } });
      expect((await client.exec({ id: "p2", shell: "main", cmd: "echo alive" })).stdout).toBe("alive\n");
    });
  });
}
