import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildExecEnv } from "../../src/exec/exec-env.ts";
import { OutputLog } from "../../src/exec/output-log.ts";
import { runExec, type ExecLogs } from "../../src/exec/run-exec.ts";
import { createShellDriver, type ShellDriver, type ShellExec, type ShellExitFacts, type ShellRunLimits } from "../../src/exec/shell-driver.ts";
import { SHELL_ARGV } from "../../src/exec/shell-script.ts";
import { detectSandbox, type DetectedSandbox } from "../../src/sandbox/detect.ts";
import type { SandboxPolicy } from "../../src/sandbox/types.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

const LOG_BYTES = 4 * 1024 * 1024;

let root = "";
let workspace = "";
let sandbox: DetectedSandbox | undefined;
let policy: SandboxPolicy;
const shells: ShellDriver[] = [];

beforeAll(async () => {
  if (noBwrap) return;
  root = realpathSync(mkdtempSync(join(tmpdir(), "bunker-shell-")));
  workspace = join(root, "workspace");
  mkdirSync(join(workspace, "sub"), { recursive: true });
  const detected = await detectSandbox({ choice: "bwrap", requireSandbox: true, allowNetwork: false, workspaceRoot: root });
  if (!detected.ok) throw new Error(`bwrap works for bwrap --unshare-all, but not for bunker: ${detected.reason}`);
  sandbox = detected.sandbox;
  policy = { workspace, allowNetwork: false };
});

afterAll(async () => {
  for (const shell of shells) shell.close();
  await Promise.all(shells.map((shell) => shell.ended));
  sandbox?.dispose();
  if (root) rmSync(root, { recursive: true, force: true });
});

function createLogs(capacityBytes = LOG_BYTES): ExecLogs {
  return { stdout: new OutputLog(capacityBytes), stderr: new OutputLog(capacityBytes) };
}

/** A bash in bwrap, driven, as a session would start one. */
function startShell(): ShellDriver {
  return startShellWithLogs().shell;
}

/** The same, with the logs of the shell's own output (markers and all). */
function startShellWithLogs(onError?: (message: string) => void): { shell: ShellDriver; logs: ExecLogs } {
  const backend = sandbox!.backend;
  const logs = createLogs();
  const running = runExec(
    {
      id: "shell",
      argv: SHELL_ARGV,
      cwd: workspace,
      env: buildExecEnv({ home: workspace, tempDir: backend.tempDir(policy), requested: undefined }),
      stdin: true,
      timeoutMs: 0,
      maxOutputBytes: Infinity,
    },
    backend,
    policy,
    logs,
  );
  const shell = createShellDriver({ running, logs, cwd: workspace, ...(onError && { onError }) });
  shells.push(shell);
  return { shell, logs };
}

function textOf(log: OutputLog): string {
  const parts: Uint8Array[] = [];
  for (let offset = log.start; offset < log.end; ) {
    const chunk = log.read(offset, Infinity)!;
    parts.push(chunk.bytes);
    offset += chunk.bytes.byteLength;
  }
  return Buffer.concat(parts).toString("utf8");
}

interface CommandResult {
  facts: ShellExitFacts;
  stdout: string;
  stderr: string;
}

async function finish(exec: ShellExec, into: ExecLogs): Promise<CommandResult> {
  const facts = await exec.finished;
  return { facts, stdout: textOf(into.stdout), stderr: textOf(into.stderr) };
}

let nextId = 0;
function run(shell: ShellDriver, cmd: string, limits?: ShellRunLimits): Promise<CommandResult> {
  const into = createLogs();
  return finish(shell.run(`c${nextId++}`, cmd, into, limits), into);
}

/** Resolves once `log` holds `text`. */
function waitForText(log: OutputLog, text: string): Promise<void> {
  return new Promise((resolve) => {
    const previous = log.onChange;
    const check = () => {
      if (!textOf(log).includes(text)) return;
      log.onChange = previous;
      resolve();
    };
    log.onChange = () => {
      previous();
      check();
    };
    check();
  });
}

describe.skipIf(noBwrap)("a persistent shell in bwrap", () => {
  test("keeps the directory from one command to the next and reports it", async () => {
    const shell = startShell();
    const cd = await run(shell, "cd sub");
    expect(cd.facts).toMatchObject({ code: 0, signal: null, reason: "exited", cwd: join(workspace, "sub"), ran: true, shellEnded: false });
    const pwd = await run(shell, "pwd");
    expect(pwd).toMatchObject({ stdout: `${join(workspace, "sub")}\n`, stderr: "" });
    expect(shell.cwd).toBe(join(workspace, "sub"));
  });

  test("keeps exported variables, plain variables, declared arrays and functions", async () => {
    const shell = startShell();
    await run(shell, "export GREETING=hello; plain=kept; declare -a list=(a b c); shout() { echo \"$1!\"; }");
    const result = await run(shell, 'echo "$GREETING $plain ${list[2]}"; sh -c \'echo "child sees $GREETING"\'; shout hey');
    expect(result).toMatchObject({ stdout: "hello kept c\nchild sees hello\nhey!\n", stderr: "" });
  });

  test("keeps a server started with & answering on localhost in the next command", async () => {
    const shell = startShell();
    const server = [
      "perl -MIO::Socket::INET -e '",
      '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 5, ReuseAddr => 1) or die "listen: $!";',
      'open my $f, ">", "port.tmp" or die; print $f $s->sockport; close $f; rename "port.tmp", "port";',
      'while (my $c = $s->accept) { print $c "hello from the background\\n"; close $c }',
      "' &",
      "while [ ! -e port ]; do sleep 0.01; done",
    ].join(" ");
    expect((await run(shell, `cd "$(mktemp -d -p "$HOME")"; ${server}`)).facts).toMatchObject({ code: 0, reason: "exited" });
    const client = "perl -MIO::Socket::INET -e '$c = IO::Socket::INET->new(\"127.0.0.1:\" . shift) or die \"connect: $!\"; print <$c>' \"$(cat port)\"";
    expect(await run(shell, client)).toMatchObject({ stdout: "hello from the background\n", stderr: "", facts: { code: 0 } });
    expect(await run(shell, client)).toMatchObject({ stdout: "hello from the background\n", stderr: "" });
  });

  test("reports each command's own exit code and keeps stderr apart from stdout", async () => {
    const shell = startShell();
    expect(await run(shell, "echo out; echo err >&2; (exit 7)")).toMatchObject({ stdout: "out\n", stderr: "err\n", facts: { code: 7, signal: null, reason: "exited" } });
    expect(await run(shell, "true")).toMatchObject({ stdout: "", stderr: "", facts: { code: 0 } });
    expect(await run(shell, "false")).toMatchObject({ facts: { code: 1 } });
    expect(await run(shell, 'echo "previous was $?"')).toMatchObject({ stdout: "previous was 1\n" });
  });

  test("passes output that does not end in a newline through exactly", async () => {
    const shell = startShell();
    expect(await run(shell, "printf 'no newline'; printf 'err' >&2")).toMatchObject({ stdout: "no newline", stderr: "err" });
    expect(await run(shell, "printf 'x'")).toMatchObject({ stdout: "x", stderr: "" });
  });

  test("survives a syntax error: the command fails and the next one runs", async () => {
    const shell = startShell();
    const broken = await run(shell, "if then");
    expect(broken.facts).toMatchObject({ code: 2, reason: "exited", shellEnded: false });
    expect(broken.stderr).toContain("syntax error near unexpected token `then'");
    expect(await run(shell, "echo fine")).toMatchObject({ stdout: "fine\n", facts: { code: 0 } });
    expect((await run(shell, "echo 'unterminated")).facts.code).toBe(2);
    expect(await run(shell, "echo still fine")).toMatchObject({ stdout: "still fine\n", facts: { code: 0 } });
  });

  test("runs none of a command's functions in its own steps: a function named : (the fork bomb's) is the command's alone", async () => {
    const shell = startShell();
    await run(shell, ":() { echo hijacked; }");
    expect(await run(shell, "echo after")).toMatchObject({ stdout: "after\n", stderr: "", facts: { code: 0 } });
    expect(await run(shell, "false")).toMatchObject({ stdout: "", facts: { code: 1 } });
  });

  test("takes quotes, backslashes, newlines and non-ASCII in the command text exactly", async () => {
    const shell = startShell();
    const text = "it's \"q\" \\n $HOME `x` é ✓ \t\x01";
    const result = await run(shell, `cat <<'EOF'\n${text}\nEOF\nprintf '%s' 'two\nlines'`);
    expect(result.stdout).toBe(`${text}\ntwo\nlines`);
  });

  test("gives the command /dev/null as stdin, so that it cannot read the shell's own input", async () => {
    const shell = startShell();
    expect(await run(shell, "cat; read line; echo \"read: $? '$line'\"")).toMatchObject({ stdout: "read: 1 ''\n" });
    expect(await run(shell, "echo next")).toMatchObject({ stdout: "next\n" });
  });

  test("interrupts a running command with SIGINT and keeps the shell and its state", async () => {
    const shell = startShell();
    await run(shell, "cd sub; kept=yes");
    const into = createLogs();
    const exec = shell.run("sleeper", "echo started; sleep 100; echo not reached", into);
    await waitForText(into.stdout, "started\n");
    exec.signal("SIGINT");
    const result = await finish(exec, into);
    expect(result.facts).toMatchObject({ code: null, signal: "SIGINT", reason: "killed", ran: true, shellEnded: false, cwd: join(workspace, "sub") });
    expect(result.stdout).toBe("started\n");
    expect(await run(shell, 'echo "$kept $PWD"')).toMatchObject({ stdout: `yes ${join(workspace, "sub")}\n` });
  });

  test("interrupts reliably when the SIGINT comes just as the shell forks the next program", async () => {
    const shell = startShell();
    for (let round = 0; round < 25; round++) {
      const into = createLogs();
      const exec = shell.run(`race-${round}`, "echo started; sleep 100; echo not reached", into);
      await waitForText(into.stdout, "started\n");
      exec.signal("SIGINT");
      const result = await finish(exec, into);
      expect(result).toMatchObject({ stdout: "started\n", facts: { signal: "SIGINT", reason: "killed", shellEnded: false } });
      expect(result.facts.durationMs).toBeLessThan(2000);
    }
  });

  test("ends the command when the program the SIGINT came to was exiting anyway, and runs nothing after it", async () => {
    const shell = startShell();
    // `echo started | cat; sleep 100` raced: cat, already exiting, did not die of the SIGINT, the shell
    // saw it exit 0 and went on. A program that blocks SIGINT and exits 0 once one is pending is that
    // race made certain: SIGINT at its default, and an exit of its own after it.
    const exiting = `perl -MPOSIX -e 'sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGINT)); $| = 1; print "started\\n"; my $pending = POSIX::SigSet->new; select undef, undef, undef, 0.001 until sigpending($pending) && $pending->ismember(SIGINT)'`;
    const into = createLogs();
    const exec = shell.run("exiting", `${exiting}; sleep 100; echo not reached`, into);
    await waitForText(into.stdout, "started\n");
    exec.signal("SIGINT");
    expect(await finish(exec, into)).toMatchObject({ stdout: "started\n", facts: { code: null, signal: "SIGINT", reason: "killed", shellEnded: false } });
    expect(await run(shell, "echo alive")).toMatchObject({ stdout: "alive\n", facts: { code: 0 } });
  });

  test("interrupts a function in a pipeline whose subshell takes the SIGINT just as it forks", async () => {
    const shell = startShell();
    await run(shell, "f() { sleep 100; echo f goes on >&2; }");
    // The race hit about 1 round in 20 outside the sandbox; the timeout only makes a round that hangs fail fast.
    for (let round = 0; round < 80; round++) {
      const into = createLogs();
      const exec = shell.run(`pipeline-${round}`, "echo started; f | cat; echo not reached", into, { timeoutMs: 3000 });
      await waitForText(into.stdout, "started\n");
      exec.signal("SIGINT");
      const result = await finish(exec, into);
      expect({ round, stdout: result.stdout, stderr: result.stderr, reason: result.facts.reason, signal: result.facts.signal }).toEqual({ round, stdout: "started\n", stderr: "", reason: "killed", signal: "SIGINT" });
    }
  });

  test("ends a pipeline's command when its last program dies of the SIGINT, though its first had already exited", async () => {
    const shell = startShell();
    await run(shell, "f() { sleep 100; echo f goes on >&2; }");
    // bash gave the SIGINT trap the first program's status (0 for `true`), and the command went on.
    // A compound command last: `jobs -l` spreads its text over several lines.
    const pipelines = ["true | sleep 100", "echo x | cat | sleep 100", "true | f", "g() { true | sleep 100; echo g goes on >&2; }; g", "echo x | while read -r l; do sleep 100; done"];
    for (let round = 0; round < 15; round++) {
      const pipeline = pipelines[round % pipelines.length]!;
      const into = createLogs();
      const exec = shell.run(`pipeline-first-exited-${round}`, `echo started; ${pipeline}; echo not reached`, into, { timeoutMs: 3000 });
      await waitForText(into.stdout, "started\n");
      exec.signal("SIGINT");
      const result = await finish(exec, into);
      expect({ pipeline, stdout: result.stdout, stderr: result.stderr, reason: result.facts.reason, signal: result.facts.signal }).toEqual({ pipeline, stdout: "started\n", stderr: "", reason: "killed", signal: "SIGINT" });
    }
    // A last program that handles the SIGINT still decides, as in bash.
    const into = createLogs();
    const exec = shell.run("pipeline-handled", `echo started; true | bash -c 'trap "exit 0" INT; echo ready >&2; while :; do sleep 0.05; done'; echo "after $?"`, into);
    await waitForText(into.stderr, "ready\n");
    exec.signal("SIGINT");
    expect(await finish(exec, into)).toMatchObject({ stdout: "started\nafter 0\n", facts: { code: 0, signal: null, reason: "exited" } });
  });

  test("leaves alone what a program starts to clean up after SIGINT", async () => {
    const shell = startShell();
    const into = createLogs();
    const script = `trap "sleep 0.4 && echo cleaned; exit 0" INT; echo ready; while :; do sleep 0.05; done`;
    const exec = shell.run("cleanup", `bash -c '${script}'`, into);
    await waitForText(into.stdout, "ready\n");
    exec.signal("SIGINT");
    const result = await finish(exec, into);
    expect(result.stdout).toBe("ready\ncleaned\n");
  });

  test("lets a command go on, as bash does, when its program handles SIGINT, and reports how it really ended", async () => {
    const shell = startShell();
    const handles = (exit: number) => `bash -c 'trap "echo caught; exit ${exit}" INT; echo ready; while :; do sleep 0.05; done'`;
    const cases = [
      { cmd: `${handles(0)}; echo "after $?"`, stdout: "ready\ncaught\nafter 0\n", code: 0 },
      { cmd: handles(3), stdout: "ready\ncaught\n", code: 3 },
      { cmd: `bash -c 'trap "" INT; echo ready; sleep 0.3; echo done'`, stdout: "ready\ndone\n", code: 0 },
      // What the shell runs next is not interrupted either, as in bash.
      { cmd: `${handles(0)}; sleep 0.5; echo "after $?"`, stdout: "ready\ncaught\nafter 0\n", code: 0 },
    ];
    for (const { cmd, stdout, code } of cases) {
      const into = createLogs();
      const exec = shell.run("handled", cmd, into);
      await waitForText(into.stdout, "ready\n");
      exec.signal("SIGINT");
      const result = await finish(exec, into);
      expect({ stdout: result.stdout, code: result.facts.code, signal: result.facts.signal, reason: result.facts.reason }).toEqual({ stdout, code, signal: null, reason: "exited" });
    }
    expect(await run(shell, "echo alive")).toMatchObject({ stdout: "alive\n", facts: { code: 0 } });
  });

  test("ends a command that runs only builtins at SIGINT, unless it set its own SIGINT trap", async () => {
    const shell = startShell();
    const busy = shell.run("busy", "echo started; while :; do :; done", createLogs());
    const into = createLogs();
    const own = shell.run("own-trap", "trap 'echo caught' INT; echo ready; i=0; while ((i < 300000)); do i=$((i + 1)); done; echo done", into);
    busy.signal("SIGINT");
    expect(await busy.finished).toMatchObject({ code: null, signal: "SIGINT", reason: "killed", shellEnded: false });
    await waitForText(into.stdout, "ready\n");
    own.signal("SIGINT");
    const result = await finish(own, into);
    expect(result).toMatchObject({ stdout: "ready\ncaught\ndone\n", facts: { code: 0, signal: null, reason: "exited" } });
  });

  test("ends the whole command at a SIGINT inside nested functions, as a prompt does", async () => {
    const shell = startShell();
    await run(shell, "f() { g; echo f goes on; }; g() { echo started; sleep 100; }; h() { echo started; while :; do :; done; }; k() { h; echo k goes on; }");
    const cmds = [
      "f; echo not reached",
      "k; echo not reached",
      "f || echo not reached",
      "f\necho not reached",
      "for i in 1 2; do f; echo $i; done; echo not reached",
      "while f; do echo not reached; done",
      "case x in x) k;; esac; echo not reached",
    ];
    for (const cmd of cmds) {
      const into = createLogs();
      const exec = shell.run("nested", cmd, into);
      await waitForText(into.stdout, "started\n");
      exec.signal("SIGINT");
      const result = await finish(exec, into);
      expect({ cmd, stdout: result.stdout, signal: result.facts.signal }).toEqual({ cmd, stdout: "started\n", signal: "SIGINT" });
    }
  });

  test("puts the shell's options back after a SIGINT inside functions, and later functions run whole", async () => {
    const report = 'echo "T=${-//[^T]/} E=${-//[^E]/} $(shopt -p extdebug) debug=[$(trap -p DEBUG)]"; two() { echo a; echo b; }; two';
    const cases = [
      { setup: "true", after: "T= E= shopt -u extdebug debug=[]\na\nb\n" },
      { setup: "set -T", after: "T=T E= shopt -u extdebug debug=[]\na\nb\n" },
      { setup: "shopt -s extdebug; set +E", after: "T=T E= shopt -s extdebug debug=[]\na\nb\n" },
    ];
    for (const { setup, after } of cases) {
      const shell = startShell();
      await run(shell, `${setup}; f() { g; echo f goes on; }; g() { echo started; sleep 100; }`);
      const into = createLogs();
      const exec = shell.run("nested", "f; echo not reached", into);
      await waitForText(into.stdout, "started\n");
      exec.signal("SIGINT");
      expect((await finish(exec, into)).stdout).toBe("started\n");
      expect({ setup, stdout: (await run(shell, report)).stdout }).toEqual({ setup, stdout: after });
    }
  });

  test("leaves a SIGINT inside functions to a command's own trap, and unwinds the next command after one that returned from its function", async () => {
    const shell = startShell();
    await run(shell, "f() { g; echo f goes on; }; g() { echo started; sleep 100; }");
    const cases = [
      { cmd: "m() { trap 'echo own' INT; g; echo m goes on; }; m; echo after m", stdout: "started\nown\nm goes on\nafter m\n" },
      // A trap that resets itself and returns leaves bash believing it still runs a trap ($BASH_COMMAND no longer changes).
      { cmd: "m() { trap 'trap - INT; return 3' INT; echo started; while :; do :; done; }; m; echo \"after m $?\"", stdout: "started\nafter m 3\n" },
    ];
    for (const { cmd, stdout } of cases) {
      const into = createLogs();
      const exec = shell.run("own-trap", cmd, into);
      await waitForText(into.stdout, "started\n");
      exec.signal("SIGINT");
      expect(await finish(exec, into)).toMatchObject({ stdout, facts: { code: 0, signal: null } });
    }
    const into = createLogs();
    // The timeout only makes a shell that spins fail fast.
    const exec = shell.run("nested", "f; echo not reached", into, { timeoutMs: 5000 });
    await waitForText(into.stdout, "started\n");
    exec.signal("SIGINT");
    expect(await finish(exec, into)).toMatchObject({ stdout: "started\n", facts: { signal: "SIGINT", reason: "killed", shellEnded: false } });
    expect(await run(shell, "echo alive")).toMatchObject({ stdout: "alive\n", facts: { code: 0 } });
  });

  test("interrupts at a timeout as a SIGINT does: a program that handles it ends as it chooses", async () => {
    const shell = startShell();
    const result = await run(shell, `bash -c 'trap "exit 0" INT; while :; do sleep 0.05; done'; echo "after $?"`, { timeoutMs: 200 });
    expect(result).toMatchObject({ stdout: "after 0\n", facts: { code: 0, signal: null, reason: "timeout", shellEnded: false } });
    expect(await run(shell, "echo next")).toMatchObject({ stdout: "next\n" });
  });

  test("keeps background jobs running when a command is interrupted", async () => {
    const shell = startShell();
    await run(shell, "sleep 100 & bg=$!");
    const into = createLogs();
    const exec = shell.run("fg", "echo started; sleep 100", into);
    await waitForText(into.stdout, "started\n");
    exec.signal("SIGINT");
    expect((await exec.finished).signal).toBe("SIGINT");
    expect(await run(shell, 'kill -0 "$bg" && echo alive')).toMatchObject({ stdout: "alive\n" });
  });

  test("interrupts a command at once, in a shell just started and in one that is warm", async () => {
    const shell = startShell();
    const first = shell.run("first", "sleep 100", createLogs());
    first.signal("SIGINT");
    expect(await first.finished).toMatchObject({ code: null, signal: "SIGINT", reason: "killed", shellEnded: false });
    expect(await run(shell, "echo after")).toMatchObject({ stdout: "after\n", facts: { code: 0 } });
    for (let round = 0; round < 5; round++) {
      const exec = shell.run(`warm-${round}`, "sleep 100", createLogs());
      exec.signal("SIGINT");
      expect(await exec.finished).toMatchObject({ signal: "SIGINT", reason: "killed", shellEnded: false });
    }
    expect(await run(shell, "echo still here")).toMatchObject({ stdout: "still here\n", facts: { code: 0 } });
  });

  test("does not end a command early when it prints an earlier command's marker and report", async () => {
    const { shell, logs } = startShellWithLogs();
    expect((await run(shell, "echo one")).stdout).toBe("one\n");
    // The shell's own stdout so far: its ready marker, "one\n", then marker, status, NUL, cwd, NUL.
    const report = textOf(logs.stdout).split("one\n")[1]!;
    expect(report).toMatch(/^[0-9a-f]{32}0\0.*\0$/);
    const asFormat = report.replaceAll("\0", "\\0");
    const result = await run(shell, `printf '${asFormat}'; printf '${asFormat}' >&2; echo done`);
    expect(result.stdout).toBe(`${report}done\n`);
    expect(result.stderr).toBe(report);
    expect(result.facts).toMatchObject({ code: 0, shellEnded: false });
  });

  test("does not end a command early when its output holds marker-like text or the shell's own trace", async () => {
    const shell = startShell();
    await run(shell, "set -x");
    const traced = await run(shell, "echo a; printf '%032x\\0%s\\0' 0 / ; echo b");
    expect(traced.stdout).toBe(`a\n${"0".repeat(32)}\0/\0b\n`);
    // One level of `eval` deep, as before the loop ran from -c: no `eval` of ours around the loop.
    expect(traced.stderr.split("\n").filter((line) => line.endsWith("echo b"))).toEqual(["++ echo b"]);
    expect(traced.facts.code).toBe(0);
    const verbose = await run(shell, "set +x -v; echo c");
    expect(verbose.stdout).toBe("c\n");
    expect(await run(shell, "echo d")).toMatchObject({ stdout: "d\n", facts: { code: 0 } });
  });

  test("finds the end of a command that redirected the shell's own stdout and stderr", async () => {
    const shell = startShell();
    expect(await run(shell, "exec 3>&1 >saved.txt 2>&1; echo hidden")).toMatchObject({ stdout: "", stderr: "", facts: { code: 0 } });
    expect(await run(shell, "echo also hidden; exec >&3 2>&1; cat saved.txt; rm saved.txt")).toMatchObject({ stdout: "hidden\nalso hidden\n", facts: { code: 0 } });
  });

  test("answers `return` outside a function as a bash prompt does, and keeps a function's own", async () => {
    const shell = startShell();
    expect(await run(shell, "echo a; return 4; echo b")).toMatchObject({
      stdout: "a\nb\n",
      stderr: "bash: line 1: return: can only `return' from a function or sourced script\n",
      facts: { code: 0, shellEnded: false },
    });
    expect(await run(shell, "f() { return 4; }; f; echo $?")).toMatchObject({ stdout: "4\n", facts: { code: 0 } });
    expect(await run(shell, "set -u; echo ok; set +u")).toMatchObject({ stdout: "ok\n", facts: { code: 0 } });
  });

  test("names itself bash in its messages, with line numbers counted from each command's first line", async () => {
    const shell = startShell();
    await run(shell, "echo warm-up");
    expect(await run(shell, "echo one\nnosuchcmd\necho two >/proc/nope")).toEqual({
      stdout: "one\n",
      stderr: "bash: line 2: nosuchcmd: command not found\nbash: line 3: /proc/nope: No such file or directory\n",
      facts: expect.objectContaining({ code: 1 }),
    });
    expect(await run(shell, "if then")).toMatchObject({
      stderr: "bash: eval: line 1: syntax error near unexpected token `then'\nbash: eval: line 1: `if then'\n",
      facts: { code: 2 },
    });
    expect(await run(shell, "cd /nonexistent")).toMatchObject({ stderr: "bash: line 1: cd: /nonexistent: No such file or directory\n", facts: { code: 1 } });
  });

  test("ends a command at a break or continue outside any loop of its own, and the shell at one that leaves two", async () => {
    const shell = startShell();
    expect(await run(shell, "echo before; break; echo never")).toMatchObject({ stdout: "before\n", facts: { code: 0, shellEnded: false } });
    expect(await run(shell, "echo before; continue; echo never")).toMatchObject({ stdout: "before\n", facts: { code: 0, shellEnded: false } });
    expect(await run(shell, "for i in 1 2; do echo $i; break; done; echo after")).toMatchObject({ stdout: "1\nafter\n" });
    // What bash would read once its loop is left is the next command's record: it must not run as script.
    expect(await run(shell, "echo before; break 2; echo never")).toMatchObject({ stdout: "before\n", facts: { shellEnded: true } });
    expect(shell.alive).toBe(false);
  });

  test("ends the shell, as a terminal would, when a command fails under set -e", async () => {
    const shell = startShell();
    expect(await run(shell, "set -e; echo on")).toMatchObject({ stdout: "on\n", facts: { code: 0 } });
    expect(await run(shell, "! true; echo still here")).toMatchObject({ stdout: "still here\n", facts: { code: 0 } });
    expect(await run(shell, "false")).toMatchObject({ facts: { code: 1, shellEnded: true } });
    expect(shell.alive).toBe(false);
  });

  test("ends the shell at a SIGINT or a timeout under set -e, as an interactive bash 5.2 does at a SIGINT, at the top level and in a function", async () => {
    // Builtins alone: no program dies of the SIGINT to trip set -e, the traps end the command (as when
    // the SIGINT lands between `echo started` and `sleep`, which a loaded machine showed, 1 run in 60).
    const commands = [
      "echo started; sleep 100; echo not reached",
      "f() { echo started; sleep 100; }; f; echo not reached",
      "echo started; while :; do :; done; echo not reached",
      "f() { echo started; while :; do :; done; }; f; echo not reached",
    ];
    for (const cmd of commands) {
      const shell = startShell();
      await run(shell, "set -e");
      const into = createLogs();
      const exec = shell.run("errexit", cmd, into);
      await waitForText(into.stdout, "started\n");
      exec.signal("SIGINT");
      expect({ cmd, ...(await finish(exec, into)) }).toMatchObject({ cmd, stdout: "started\n", facts: { code: 130, signal: null, shellEnded: true } });
      expect(shell.alive).toBe(false);
    }
    const shell = startShell();
    await run(shell, "set -e");
    expect(await run(shell, "sleep 100", { timeoutMs: 100 })).toMatchObject({ facts: { code: 130, reason: "timeout", shellEnded: true } });
  });

  test("kills the shell, and says why, when a command has reprogrammed what it reports after its marker", async () => {
    const errors: string[] = [];
    const { shell } = startShellWithLogs((message) => errors.push(message));
    const result = await run(
      shell,
      // The report's directory is $PWD, which a command may set to anything.
      `PWD=/$(printf 'x%.0s' {1..70000}); echo reprogrammed`,
    );
    expect(result).toMatchObject({ stdout: "reprogrammed\n", facts: { code: null, signal: "SIGKILL", reason: "killed", shellEnded: true } });
    expect(errors).toEqual([expect.stringMatching(/^the shell was killed during "c\d+": the shell's report after a command is longer than 65536 bytes$/)]);
    expect(shell.alive).toBe(false);
  });

  test("ends the shell, and the command with it, when a command breaks the loop that reads commands; nothing after it runs as script", async () => {
    for (const breaker of ["readonly __bunker_status", "readonly __bunker_pending", "readonly __bunker_interrupted"]) {
      const shell = startShell();
      // The timeout only makes a hang fail fast: the shell must end by itself.
      const result = await run(shell, `${breaker}; echo broken`, { timeoutMs: 5000 });
      expect({ breaker, stdout: result.stdout, facts: result.facts }).toMatchObject({ breaker, stdout: "broken\n", facts: { code: 1, reason: "exited", shellEnded: true } });
      expect(result.stderr).not.toContain("command not found");
      expect(shell.alive).toBe(false);
    }
  });

  test("reads each command's text and marker as sent, whatever attributes a command gave the variables they go to", async () => {
    for (const setup of ["declare -l __bunker_cmd", "declare -u __bunker_cmd", "declare -i __bunker_cmd", "declare -u __bunker_marker", "declare -i __bunker_marker", "declare -a __bunker_marker"]) {
      const shell = startShell();
      await run(shell, setup);
      // The timeout only makes a hang fail fast.
      const result = await run(shell, "echo AFTER $((6 * 7))", { timeoutMs: 5000 });
      expect({ setup, stdout: result.stdout, code: result.facts.code, shellEnded: result.facts.shellEnded }).toEqual({ setup, stdout: "AFTER 42\n", code: 0, shellEnded: false });
    }
  });

  test("keeps reading commands when a command redefines or unsets functions named like the shell's own", async () => {
    for (const setup of ["__bunker_finish() { :; }", "__bunker_next() { :; }", "unset -f __bunker_next __bunker_finish"]) {
      const shell = startShell();
      await run(shell, setup);
      // The timeout only makes a hang fail fast.
      const result = await run(shell, "echo after", { timeoutMs: 5000 });
      expect({ setup, stdout: result.stdout, code: result.facts.code, shellEnded: result.facts.shellEnded }).toEqual({ setup, stdout: "after\n", code: 0, shellEnded: false });
    }
  });

  test("passes 1 MB of random bytes through exactly", async () => {
    const shell = startShell();
    const into = createLogs();
    const facts = await shell.run("big", "head -c 1048576 /dev/urandom > big.bin && cat big.bin && head -c 1048576 big.bin >&2", into).finished;
    expect(facts).toMatchObject({ code: 0, bytes: { stdout: 1048576, stderr: 1048576 } });
    // The workspace is the same directory inside the sandbox and out.
    const expected = readFileSync(join(workspace, "big.bin"));
    expect(Buffer.concat(readAll(into.stdout)).equals(expected)).toBe(true);
    expect(Buffer.concat(readAll(into.stderr)).equals(expected)).toBe(true);
    rmSync(join(workspace, "big.bin"));
  });

  test("holds the command while its log has no room, and loses nothing", async () => {
    const shell = startShell();
    const capacity = 64 * 1024;
    const into = createLogs(capacity);
    const reader = { position: 0 };
    into.stdout.addReader(reader);
    const exec = shell.run("paced", "seq 1 200000", into);
    const parts: Uint8Array[] = [];
    let mostAhead = 0;
    for (;;) {
      mostAhead = Math.max(mostAhead, into.stdout.end - reader.position);
      const chunk = into.stdout.read(reader.position, 4096);
      if (chunk) {
        parts.push(chunk.bytes);
        reader.position += chunk.bytes.byteLength;
        into.stdout.readerMoved();
      } else if (into.stdout.ended) break;
      await Bun.sleep(0);
    }
    expect((await exec.finished).code).toBe(0);
    const expected = Array.from({ length: 200000 }, (_, index) => `${index + 1}\n`).join("");
    expect(Buffer.concat(parts).toString()).toBe(expected);
    // One capacity, plus at most one read of the shell's log past it.
    expect(mostAhead).toBeLessThanOrEqual(capacity + 64 * 1024);
  });

  test("ends with the code of exit, and the shell with it", async () => {
    const shell = startShell();
    await run(shell, "cd sub");
    const into = createLogs();
    const exiting = shell.run("exit", "echo bye; exit 3", into);
    const queued = shell.run("after-exit", "echo never", createLogs());
    const result = await finish(exiting, into);
    expect(result).toMatchObject({ stdout: "bye\n", facts: { code: 3, signal: null, reason: "exited", shellEnded: true, cwd: join(workspace, "sub") } });
    // Unrun, with the exit of the command that ended the shell: it said SIGKILL, which nobody sent.
    expect(await queued.finished).toMatchObject({ ran: false, code: 3, signal: null, reason: "exited", durationMs: 0 });
    expect(shell.alive).toBe(false);
    expect(() => shell.run("late", "true", createLogs())).toThrow("the shell has ended");
  });

  test("a signal that ends the shell ends its waiting commands with the same signal", async () => {
    const shell = startShell();
    const running = shell.run("running", "sleep 100", createLogs());
    const waiting = [shell.run("w1", "echo w1", createLogs()), shell.run("w2", "echo w2", createLogs())];
    running.signal("SIGTERM");
    expect(await running.finished).toMatchObject({ code: null, signal: "SIGTERM", reason: "killed", shellEnded: true });
    for (const exec of waiting) expect(await exec.finished).toMatchObject({ ran: false, code: null, signal: "SIGTERM", reason: "killed", durationMs: 0 });
  });

  test("runs queued commands one at a time, in order", async () => {
    const shell = startShell();
    const results = await Promise.all([run(shell, "sleep 0.2; echo 1 > order"), run(shell, "echo 2 >> order"), run(shell, "cat order")]);
    expect(results[2]!.stdout).toBe("1\n2\n");
  });

  test("drops a queued command that is interrupted before its turn", async () => {
    const shell = startShell();
    const first = shell.run("first", "sleep 0.2", createLogs());
    const second = shell.run("second", "echo ran > second.txt", createLogs());
    second.signal("SIGINT");
    expect(await second.finished).toMatchObject({ ran: false, signal: "SIGINT", reason: "killed" });
    expect((await first.finished).code).toBe(0);
    expect(await run(shell, "cat second.txt 2>/dev/null || echo absent")).toMatchObject({ stdout: "absent\n" });
  });

  test("ends a command at its timeout, with SIGINT first", async () => {
    const shell = startShell();
    expect((await run(shell, "sleep 100", { timeoutMs: 100 })).facts).toMatchObject({ code: null, signal: "SIGINT", reason: "timeout", shellEnded: false });
    expect(await run(shell, "echo after")).toMatchObject({ stdout: "after\n" });
  });

  test("kills the shell when a timed-out command outlives SIGINT", async () => {
    const shell = startShell();
    const result = await run(shell, "trap '' INT; sleep 100", { timeoutMs: 100 });
    expect(result.facts).toMatchObject({ reason: "timeout", shellEnded: true });
    expect(shell.alive).toBe(false);
  });

  test("keeps exactly maxOutputBytes of output and ends the command", async () => {
    const shell = startShell();
    const result = await run(shell, "yes", { maxOutputBytes: 1000 });
    expect(result.stdout).toBe("y\n".repeat(500));
    expect(result.facts).toMatchObject({ reason: "output_limit", shellEnded: false, bytes: { stdout: 1000, stderr: 0 } });
    expect(await run(shell, "echo after")).toMatchObject({ stdout: "after\n" });
  });

  test("gives output of background jobs between commands to the next command", async () => {
    const shell = startShell();
    await run(shell, "(sleep 0.1; echo from the background; echo bg-err >&2) & wait_for=$!");
    const result = await run(shell, 'wait "$wait_for"; echo now');
    expect(result).toMatchObject({ stdout: "from the background\nnow\n", stderr: "bg-err\n" });
  });

  test("runs two shells independently", async () => {
    const [left, right] = [startShell(), startShell()];
    await Promise.all([run(left, "cd sub; side=left"), run(right, "side=right")]);
    expect(await run(left, 'echo "$side $PWD"')).toMatchObject({ stdout: `left ${join(workspace, "sub")}\n` });
    expect(await run(right, 'echo "$side $PWD"')).toMatchObject({ stdout: `right ${workspace}\n` });
  });

  test("close kills the shell and ends its running command, and those waiting", async () => {
    const shell = startShell();
    const exec = shell.run("long", "sleep 100", createLogs());
    const waiting = shell.run("waiting", "echo never", createLogs());
    shell.close();
    expect(await exec.finished).toMatchObject({ reason: "killed", shellEnded: true, signal: "SIGKILL" });
    expect(await waiting.finished).toMatchObject({ ran: false, reason: "killed", signal: "SIGKILL" });
    expect(shell.alive).toBe(false);
  });
});

function readAll(log: OutputLog): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let offset = log.start; offset < log.end; ) {
    const chunk = log.read(offset, Infinity)!;
    parts.push(chunk.bytes);
    offset += chunk.bytes.byteLength;
  }
  return parts;
}
