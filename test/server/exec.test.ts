import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import type { ServerMessage } from "../../src/protocol/index.ts";

/** Host pids whose command line matches, read from /proc. */
function hostProcessesMatching(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      if (cmdline === needle) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

describe.skipIf(noBwrap)("exec under bwrap", () => {
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

  test("hello names the session, its workspace and the bwrap backend", () => {
    expect(client.hello).toMatchObject({ type: "hello", protocol: 1, version: "0.1.0", sandbox: { backend: "bwrap" } });
    expect(client.hello.workspace.startsWith(server.workspaceRoot)).toBe(true);
  });

  test("echo hi gives started, hi on stdout at offset 0, and exit 0 with reason exited", async () => {
    const run = await client.exec({ id: "echo", argv: ["echo", "hi"] });
    const started = run.messages[0]!;
    expect(started).toMatchObject({ type: "started", id: "echo" });
    expect((started as { pid: number }).pid).toBeGreaterThan(0);
    expect(run.messages.slice(1)).toEqual([
      { type: "output", id: "echo", stream: "stdout", offset: 0, data: "hi\n" },
      { type: "exit", id: "echo", code: 0, signal: null, reason: "exited", durationMs: run.exit.durationMs },
    ]);
  });

  test("stderr arrives on its own stream", async () => {
    const run = await client.exec({ id: "stderr", cmd: "echo out; echo err >&2" });
    expect(run.stdout).toBe("out\n");
    expect(run.stderr).toBe("err\n");
  });

  test("sh -c 'exit 3' exits with code 3", async () => {
    const run = await client.exec({ id: "exit3", argv: ["sh", "-c", "exit 3"] });
    expect(run.exit).toMatchObject({ code: 3, signal: null, reason: "exited" });
  });

  test("a real exit 137 stays a code, not a signal", async () => {
    const run = await client.exec({ id: "exit137", cmd: "exit 137" });
    expect(run.exit).toMatchObject({ code: 137, signal: null, reason: "exited" });
  });

  test("a process killed by SIGKILL reports code null and signal SIGKILL", async () => {
    const run = await client.exec({ id: "kill9", cmd: "kill -9 $$" });
    expect(run.exit).toMatchObject({ code: null, signal: "SIGKILL", reason: "signaled" });
  });

  test("the first chunk arrives before the process has ended", async () => {
    client.send({ type: "exec", id: "live", cmd: "for i in 1 2 3; do echo $i; sleep 1; done" });
    const order: string[] = [];
    for (;;) {
      const message = await client.next((m) => "id" in m && m.id === "live");
      order.push(message.type === "output" ? `output:${message.data}` : message.type);
      if (message.type === "exit") break;
    }
    expect(order).toEqual(["started", "output:1\n", "output:2\n", "output:3\n", "exit"]);
  });

  test("random bytes round-trip exactly in base64", async () => {
    const run = await client.exec({ id: "random", cmd: "head -c 4096 /dev/urandom | tee random.bin", encoding: "base64" });
    const outputs = run.messages.filter((m) => m.type === "output");
    const received = Buffer.concat(outputs.map((m) => Buffer.from((m as { data: string }).data, "base64")));
    const written = readFileSync(`${client.hello.workspace}/random.bin`);
    expect(received.length).toBe(4096);
    expect(received.equals(written)).toBe(true);
  });

  test("a UTF-8 character split across two reads arrives whole", async () => {
    const run = await client.exec({ id: "split", cmd: "printf '\\342\\202'; sleep 0.2; printf '\\254\\n'" });
    const outputs = run.messages.filter((m) => m.type === "output") as { data: string; offset: number }[];
    expect(run.stdout).toBe("€\n");
    expect(outputs.some((m) => m.data.includes("\uFFFD"))).toBe(false);
    // Offsets count raw bytes: the euro sign is three.
    expect(outputs.at(-1)!.offset + Buffer.byteLength(outputs.at(-1)!.data)).toBe(4);
  });

  test("a character cut at the end of the stream says how many raw bytes its U+FFFD covers, even when its UTF-8 is as long", async () => {
    // Three bytes of a four-byte character: one U+FFFD, itself three bytes of UTF-8.
    const run = await client.exec({ id: "cut-end", cmd: "printf 'ok\\360\\237\\230'" });
    const outputs = run.messages.filter((m) => m.type === "output") as { data: string; offset: number; bytes?: number }[];
    expect(outputs.map((m) => m.data).join("")).toBe("ok\uFFFD");
    const last = outputs.at(-1)!;
    expect(last.offset + (last.bytes ?? Buffer.byteLength(last.data))).toBe(5);
    expect(outputs.some((m) => m.bytes !== undefined)).toBe(true);
  });

  test("a byte-order mark is output like any other character, not dropped", async () => {
    const run = await client.exec({ id: "bom", cmd: "printf '\\357\\273\\277hi'" });
    expect(run.stdout).toBe("\uFEFFhi");
    const outputs = run.messages.filter((m) => m.type === "output") as { bytes?: number }[];
    expect(outputs.every((m) => m.bytes === undefined)).toBe(true);
  });

  test("invalid UTF-8 bytes become U+FFFD while offsets count raw bytes", async () => {
    const run = await client.exec({ id: "invalid", cmd: "printf 'a\\377b'" });
    expect(run.stdout).toBe("a\uFFFDb");
  });

  test("cat with stdin: true echoes what is sent and exits 0 after eof", async () => {
    client.send({ type: "exec", id: "cat", argv: ["cat"], stdin: true });
    await client.next((m) => m.type === "started" && m.id === "cat");
    client.send({ type: "stdin", id: "cat", data: "hello " });
    client.send({ type: "stdin", id: "cat", data: "d29ybGQ=", encoding: "base64", eof: true });
    const run = await client.runToExit("cat");
    expect(run.stdout).toBe("hello world");
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
  });

  test("base64 stdin with padding before its end is refused, not cut at the first '=' (chunks joined after encoding)", async () => {
    client.send({ type: "exec", id: "cat-joined", argv: ["cat"], stdin: true });
    await client.next((m) => m.type === "started" && m.id === "cat-joined");
    // "YQ==YQ==" decoded to one byte, silently (found by a review).
    client.send({ type: "stdin", id: "cat-joined", data: "YQ==YQ==", encoding: "base64" });
    expect(await client.next((m) => m.type === "error" && m.id === "cat-joined")).toMatchObject({ code: "bad_message", message: expect.stringMatching(/^data: base64 padding \('=' at 2\) comes before the end/) });
    client.send({ type: "stdin", id: "cat-joined", data: "YQ==\n", encoding: "base64" });
    client.send({ type: "stdin", id: "cat-joined", data: "YQ==", encoding: "base64", eof: true });
    const run = await client.runToExit("cat-joined");
    expect(run.stdout).toBe("aa");
  });

  test("without stdin: true, cat reads /dev/null and exits at once", async () => {
    const run = await client.exec({ id: "cat-null", argv: ["cat"] });
    expect(run.stdout).toBe("");
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
  });

  test("stdin to an exec without stdin: true is invalid_state", async () => {
    client.send({ type: "exec", id: "no-stdin", argv: ["sleep", "5"] });
    await client.next((m) => m.type === "started" && m.id === "no-stdin");
    client.send({ type: "stdin", id: "no-stdin", data: "x" });
    expect(await client.next((m) => m.type === "error" && m.id === "no-stdin")).toMatchObject({ code: "invalid_state" });
    client.send({ type: "signal", id: "no-stdin", signal: "SIGKILL" });
    const run = await client.runToExit("no-stdin");
    expect(run.exit).toMatchObject({ code: null, signal: "SIGKILL", reason: "killed" });
  });

  test("timeoutMs kills the whole tree, and no sleep of it is left on the host", async () => {
    // A duration nothing else on the host uses: the check scans every process of the machine (a
    // developer's own `sleep 100` in another shell once failed it).
    const run = await client.exec({ id: "timeout", cmd: "sleep 1013 & sleep 1013", timeoutMs: 500 });
    expect(run.exit.reason).toBe("timeout");
    expect(run.exit.code).toBeNull();
    expect(hostProcessesMatching("sleep 1013")).toEqual([]);
  });

  test("a setsid daemon and a double fork are gone once the exec exits", async () => {
    const run = await client.exec({ id: "daemon", cmd: "setsid sleep 101 & (sleep 102 &) ; echo spawned" });
    expect(run.stdout).toBe("spawned\n");
    expect(run.exit.reason).toBe("exited");
    expect(hostProcessesMatching("sleep 101")).toEqual([]);
    expect(hostProcessesMatching("sleep 102")).toEqual([]);
  });

  test("the exit comes once the sandbox is empty, without waiting for bwrap's own exit", async () => {
    // bwrap (the pid of started) tears the namespaces down after the sandbox's last process is gone,
    // then exits: 0.4 to 0.9 ms the exit message does not wait for. Stopped, bwrap cannot exit at all.
    client.send({ type: "exec", id: "bwrap-stopped", cmd: "echo ready; read -r line; echo got $line; echo err >&2", stdin: true });
    const started = await client.next<Extract<ServerMessage, { type: "started" }>>((m) => m.type === "started" && m.id === "bwrap-stopped");
    await client.next((m) => m.type === "output" && m.id === "bwrap-stopped" && m.data === "ready\n");
    process.kill(started.pid, "SIGSTOP");
    try {
      // A signal takes effect when its process next runs: a busy bwrap showed "R" here after the exit
      // (found under load). Nothing announces the stop; /proc is looked at until it shows it.
      for (let look = 0; !/^\d+ \(bwrap\) T /.test(readFileSync(`/proc/${started.pid}/stat`, "utf8")); look++) {
        if (look > 2000) throw new Error("bwrap never stopped");
        await Bun.sleep(1);
      }
      client.send({ type: "stdin", id: "bwrap-stopped", data: "go\n", eof: true });
      const run = await client.runToExit("bwrap-stopped");
      expect({ stdout: run.stdout, stderr: run.stderr }).toEqual({ stdout: "got go\n", stderr: "err\n" });
      expect(run.exit).toMatchObject({ code: 0, signal: null, reason: "exited" });
      // bwrap is still there, stopped: the exit did not come from it.
      expect(readFileSync(`/proc/${started.pid}/stat`, "utf8")).toMatch(/^\d+ \(bwrap\) T /);
    } finally {
      process.kill(started.pid, "SIGCONT");
    }
  });

  test("under an open-files limit of 1 the command's stderr still reaches the client", async () => {
    // The loader cannot open libc with no fd free and says so on stderr. The reaper moves the
    // command's stdout and stderr into place before it sets the limits: after them, dup3 onto 2
    // failed, and the command wrote into bwrap's own stderr, which nobody reads after a record.
    const run = await client.exec({ id: "nofile-1", argv: ["echo", "hi"], rlimits: { openFiles: 1 } });
    expect(run.stderr).toContain("error while loading shared libraries");
    expect(run.exit).toMatchObject({ code: 127, reason: "exited" });
  });

  test("bwrap's own complaint counts against maxOutputBytes", async () => {
    // A working directory the sandbox cannot enter (mode 000, commands run as another uid or
    // without capabilities): bwrap fails before the command and says why on its stderr.
    const cwd = `locked-${process.pid}`;
    expect((await client.exec({ id: "mk-locked", cmd: `mkdir ${cwd} && chmod 000 ${cwd}` })).exit.code).toBe(0);
    const run = await client.exec({ id: "locked-cwd", argv: ["true"], cwd, maxOutputBytes: 5 });
    expect(run.stderr).toBe("bwrap");
    expect(run.exit.reason).toBe("output_limit");
  });

  test("SIGINT from the client reaches every process of the tree", async () => {
    client.send({ type: "exec", id: "sigint", cmd: "trap 'echo got-int; exit 5' INT; echo ready; sleep 1031 & wait" });
    await client.next((m) => m.type === "output" && m.id === "sigint" && m.data === "ready\n");
    client.send({ type: "signal", id: "sigint", signal: "SIGINT" });
    const run = await client.runToExit("sigint");
    expect(run.stdout).toBe("got-int\n");
    expect(hostProcessesMatching("sleep 1031")).toEqual([]);
    expect(run.exit).toMatchObject({ code: 5, reason: "exited" });
  });

  test("a catchable signal reaches a single-process command exactly once", async () => {
    client.send({ type: "exec", id: "once", cmd: "trap 'echo term' TERM; echo ready; read line; read line; echo done", stdin: true });
    await client.next((m) => m.type === "output" && m.id === "once" && m.data === "ready\n");
    client.send({ type: "signal", id: "once", signal: "SIGTERM" });
    await client.next((m) => m.type === "output" && m.id === "once" && m.data.includes("term"));
    client.send({ type: "stdin", id: "once", data: "a\nb\n", eof: true });
    const run = await client.runToExit("once");
    expect(`term\n${run.stdout}`.match(/term/g)?.length).toBe(1);
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
  });

  test("SIGKILL from the client right after started ends the command with reason killed", async () => {
    client.send({ type: "exec", id: "early-kill", argv: ["sleep", "30"] });
    await client.next((m) => m.type === "started" && m.id === "early-kill");
    client.send({ type: "signal", id: "early-kill", signal: "SIGKILL" });
    const run = await client.runToExit("early-kill");
    expect(run.exit).toMatchObject({ code: null, signal: "SIGKILL", reason: "killed" });
  });

  test("SIGTERM from the client ends the command with reason killed", async () => {
    client.send({ type: "exec", id: "sigterm", argv: ["sleep", "30"] });
    await client.next((m) => m.type === "started" && m.id === "sigterm");
    client.send({ type: "signal", id: "sigterm", signal: "SIGTERM" });
    const run = await client.runToExit("sigterm");
    expect(run.exit).toMatchObject({ code: null, signal: "SIGTERM", reason: "killed" });
  });

  test("maxOutputBytes stops output at exactly that many bytes and kills with output_limit", async () => {
    const run = await client.exec({ id: "limit", cmd: "yes", maxOutputBytes: 10000 });
    expect(run.stdout.length).toBe(10000);
    expect(run.exit.reason).toBe("output_limit");
  });

  test("a program path that does not exist gives started, spawn_failed, then exit 127", async () => {
    const run = await client.exec({ id: "missing", argv: ["/usr/bin/no-such-program-here"] });
    expect(run.errors).toEqual([{ type: "error", id: "missing", code: "spawn_failed", message: expect.stringContaining("ENOENT") }]);
    expect(run.exit).toMatchObject({ code: 127, reason: "exited" });
  });

  test("a bare name not on PATH gives spawn_failed and runs nothing, not even a file of that name in cwd", async () => {
    await client.exec({ id: "plant", cmd: "printf '#!/bin/sh\necho planted\n' > lookalike && chmod +x lookalike" });
    const run = await client.exec({ id: "lookalike", argv: ["lookalike"] });
    expect(run.messages).toEqual([
      { type: "error", id: "lookalike", code: "spawn_failed", message: 'could not start "lookalike": "lookalike" was not found on the command\'s PATH' },
    ]);
  });

  test("a cmd or argument past the kernel's 128 KiB for one argument is spawn_failed saying so; the id stays free and the script runs from a file", async () => {
    const script = `cat > big.txt <<'EOF'\n${"x".repeat(140_000)}\nEOF\nwc -c < big.txt`;
    const run = await client.exec({ id: "heredoc", cmd: script });
    expect(run.messages).toEqual([
      {
        type: "error",
        id: "heredoc",
        code: "spawn_failed",
        message: `cmd: ${Buffer.byteLength(script)} bytes is past the kernel's limit of 131072 bytes for one argument (its NUL included); write a long script to a file (file.write) and run that, or send it to a persistent shell (shell), which takes up to 8 MiB`,
      },
    ]);
    const argument = await client.exec({ id: "long-arg", argv: ["echo", "y".repeat(131_072)] });
    expect(argument.messages).toEqual([
      { type: "error", id: "long-arg", code: "spawn_failed", message: "argv[1]: 131072 bytes is past the kernel's limit of 131072 bytes for one argument (its NUL included)" },
    ]);
    // The largest argument that fits runs; the refused id is free for the next try.
    const fits = await client.exec({ id: "long-arg", argv: ["sh", "-c", `printf %s "$0" | wc -c`, "z".repeat(131_071)] });
    expect(fits.stdout).toBe("131071\n");
  });

  test("cwd inside the workspace is where the command runs", async () => {
    await client.exec({ id: "mkdir", cmd: "mkdir -p sub/dir" });
    const run = await client.exec({ id: "pwd", argv: ["pwd"], cwd: "sub/dir" });
    expect(run.stdout).toBe(`${client.hello.workspace}/sub/dir\n`);
  });

  test("the request's env is added to a clean environment", async () => {
    const run = await client.exec({ id: "env", argv: ["env"], env: { GREETING: "hello" } });
    const names = run.stdout.trim().split("\n").map((line) => line.split("=")[0]).sort();
    expect(names).toEqual(["GREETING", "HOME", "LANG", "PATH", "PWD", "TERM", "TMPDIR"]);
  });
});
