import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { connect } from "../helpers/client.ts";
import { startServer } from "../helpers/server-process.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import type { OutputMessage } from "../../src/protocol/index.ts";

/**
 * The one-letter states (/proc/<pid>/stat) of the host's processes that carry `marker` in their
 * environment (the exec's own env): the command's ("command", the reaper left out: it is no process
 * of the command's), all of them, or the reaper's alone.
 */
function statesOf(marker: string, which: "command" | "all" | "reaper" = "command"): string[] {
  const states: string[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, "utf8").split("\0").includes(`STOP_TEST_MARK=${marker}`)) continue;
      const isReaper = readFileSync(`/proc/${name}/comm`, "utf8").startsWith("reap");
      if ((which === "command" && isReaper) || (which === "reaper" && !isReaper)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      states.push(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
    } catch {
      // Gone meanwhile, or a kernel thread.
    }
  }
  return states;
}

/** Waits until `count` processes of `marker` are each in a state `wanted` accepts; /proc has no event to await. */
async function untilStates(marker: string, count: number, wanted: (state: string) => boolean): Promise<string[]> {
  for (let look = 0; look < 2000; look++) {
    const states = statesOf(marker);
    if (states.length === count && states.every(wanted)) return states;
    await Bun.sleep(5);
  }
  throw new Error(`the processes of ${marker} never reached the state wanted: ${statesOf(marker).join(",")}`);
}

/** Waits until the reaper of `marker` is not stopped (the other processes may be). */
async function untilReaperRuns(marker: string): Promise<void> {
  for (let look = 0; look < 2000; look++) {
    const states = statesOf(marker, "reaper");
    if (states.length === 1 && states[0] !== "T") return;
    await Bun.sleep(5);
  }
  throw new Error(`the reaper of ${marker} stayed stopped: ${statesOf(marker, "reaper").join(",")}`);
}

/** Waits until the processes of `marker` (the reaper too) are gone. */
async function untilGone(marker: string): Promise<void> {
  for (let look = 0; look < 2000; look++) {
    if (statesOf(marker, "all").length === 0) return;
    await Bun.sleep(5);
  }
  throw new Error(`the processes of ${marker} outlived their server: ${statesOf(marker, "all").join(",")}`);
}

const BACKENDS = [
  { name: "bwrap", args: [], skip: noBwrap },
  { name: "none", args: ["--sandbox", "none"], skip: false },
];

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(`SIGSTOP and SIGCONT under ${backend.name}`, () => {
    test("SIGSTOP stops the whole tree without ending the exec, SIGCONT lets it go on to its own exit", async () => {
      await using server = await startServer({ args: backend.args });
      await using client = await connect(server);
      const marker = `stop-${randomUUID()}`;
      // Two processes: the shell, and the cat it waits for (the shell reads after cat ends).
      client.send({ type: "exec", id: "job", stdin: true, env: { STOP_TEST_MARK: marker }, cmd: `cat >/dev/null; read line; echo "got $line ${marker}"` });
      await client.next((message) => message.type === "started" && message.id === "job");
      await untilStates(marker, 2, (state) => state === "S");

      client.send({ type: "signal", id: "job", signal: "SIGSTOP" });
      // The shell and its cat, both.
      await untilStates(marker, 2, (state) => state === "T");
      // Stopped is not ended: the exec is still running.
      client.send({ type: "list", id: "l1" });
      const listed = await client.next((message) => message.type === "execs");
      expect(listed).toMatchObject({ execs: [{ id: "job", state: "running" }] });

      client.send({ type: "signal", id: "job", signal: "SIGCONT" });
      await untilStates(marker, 2, (state) => state === "S");
      client.send({ type: "stdin", id: "job", data: "", eof: true });
      const transcript = await client.runToExit("job");
      expect(transcript.exit).toMatchObject({ code: 0, signal: null, reason: "exited" });
      expect(transcript.stdout).toBe(`got  ${marker}\n`);
    });

    test("a tree that was paused and resumed, then dies of a signal of its own, is reported signaled, not killed by the client", async () => {
      await using server = await startServer({ args: backend.args });
      await using client = await connect(server);
      const marker = `own-${randomUUID()}`;
      client.send({ type: "exec", id: "job", stdin: true, env: { STOP_TEST_MARK: marker }, cmd: "cat; kill -TERM $$" });
      await client.next((message) => message.type === "started" && message.id === "job");
      await untilStates(marker, 2, (state) => state === "S");
      client.send({ type: "signal", id: "job", signal: "SIGSTOP" });
      await untilStates(marker, 2, (state) => state === "T");
      client.send({ type: "signal", id: "job", signal: "SIGCONT" });
      await untilStates(marker, 2, (state) => state === "S");
      client.send({ type: "stdin", id: "job", data: "", eof: true });
      expect((await client.runToExit("job")).exit).toMatchObject({ code: null, signal: "SIGTERM", reason: "signaled" });
    });

    test("pausing a command of a persistent shell pauses the shell, a command waiting behind it included, and drops nothing", async () => {
      await using server = await startServer({ args: backend.args });
      await using client = await connect(server);
      const marker = `shell-${randomUUID()}`;
      // The shell waits in cat for a fifo that a separate exec writes once the pause is over.
      await client.exec({ id: "fifo", cmd: "mkfifo gate" });
      client.send({ type: "exec", id: "first", shell: "main", env: { STOP_TEST_MARK: marker }, cmd: "cat gate" });
      client.send({ type: "exec", id: "second", shell: "main", cmd: "echo second" });
      await client.next((message) => message.type === "started" && message.id === "second");
      await untilStates(marker, 2, (state) => state === "S");
      // Sent to the waiting command: the whole shell stops, and the command stays queued.
      client.send({ type: "signal", id: "second", signal: "SIGSTOP" });
      await untilStates(marker, 2, (state) => state === "T");
      client.send({ type: "signal", id: "first", signal: "SIGCONT" });
      await untilStates(marker, 2, (state) => state === "S");
      await client.exec({ id: "open", cmd: "echo through > gate" });
      const first = await client.runToExit("first");
      expect(first.stdout).toBe("through\n");
      expect(first.exit).toMatchObject({ code: 0, reason: "exited" });
      const second = await client.runToExit("second");
      expect(second.stdout).toBe("second\n");
      expect(second.exit).toMatchObject({ code: 0, reason: "exited" });
    });

    test("a paused exec says so in list, and a client's SIGTERM to it ends it rather than wait for a SIGCONT", async () => {
      await using server = await startServer({ args: backend.args });
      await using client = await connect(server);
      const marker = `term-${randomUUID()}`;
      client.send({ type: "exec", id: "job", stdin: true, env: { STOP_TEST_MARK: marker }, cmd: "cat; true" });
      await client.next((message) => message.type === "started" && message.id === "job");
      await untilStates(marker, 2, (state) => state === "S");
      client.send({ type: "signal", id: "job", signal: "SIGSTOP" });
      await untilStates(marker, 2, (state) => state === "T");
      client.send({ type: "list", id: "paused" });
      expect(await client.next((message) => message.type === "execs")).toMatchObject({ execs: [{ id: "job", state: "running", paused: true }] });
      client.send({ type: "signal", id: "job", signal: "SIGTERM" });
      expect((await client.runToExit("job")).exit).toMatchObject({ signal: "SIGTERM", reason: "killed" });
      client.send({ type: "list", id: "after" });
      const after = await client.next((message) => message.type === "execs" && message.id === "after");
      expect(after).not.toMatchObject({ execs: [{ paused: true }] });
    });

    test("a command that stopped itself is continued after a client's SIGTERM, and dies of it", async () => {
      // The SIGTERM stayed pending for ever, and bunker exec with it (found by a review).
      await using server = await startServer({ args: backend.args });
      await using client = await connect(server);
      const marker = `self-${randomUUID()}`;
      client.send({ type: "exec", id: "job", env: { STOP_TEST_MARK: marker }, cmd: "echo stopping; kill -STOP $$; echo resumed" });
      await client.next((message) => message.type === "output" && message.id === "job");
      await untilStates(marker, 1, (state) => state === "T");
      client.send({ type: "signal", id: "job", signal: "SIGTERM" });
      const transcript = await client.runToExit("job");
      expect(transcript.exit).toMatchObject({ signal: "SIGTERM", reason: "killed" });
      expect(transcript.stdout).toBe("");
    });

    test("a stopped tree is continued at its timeout, so that it dies of the SIGTERM rather than waiting for the SIGKILL", async () => {
      await using server = await startServer({ args: backend.args });
      await using client = await connect(server);
      const marker = `timeout-${randomUUID()}`;
      client.send({ type: "exec", id: "job", stdin: true, env: { STOP_TEST_MARK: marker }, timeoutMs: 400, cmd: "cat; true" });
      await client.next((message) => message.type === "started" && message.id === "job");
      await untilStates(marker, 2, (state) => state === "S");
      client.send({ type: "signal", id: "job", signal: "SIGSTOP" });
      const transcript = await client.runToExit("job");
      expect(transcript.exit).toMatchObject({ reason: "timeout", signal: "SIGTERM" });
      expect(statesOf(marker)).toEqual([]);
    });

    test("a persistent shell paused when its command times out is resumed: the command is interrupted and the shell goes on, with the command waiting behind it", async () => {
      await using server = await startServer({ args: backend.args });
      await using client = await connect(server);
      const marker = `shell-timeout-${randomUUID()}`;
      await client.exec({ id: "set", shell: "main", env: { STOP_TEST_MARK: marker }, cmd: "kept=yes" });
      client.send({ type: "exec", id: "slow", shell: "main", timeoutMs: 500, cmd: "echo begun; sleep 100" });
      client.send({ type: "exec", id: "next", shell: "main", cmd: 'echo "kept=$kept"' });
      await client.next((message) => message.type === "output" && message.id === "slow");
      await untilStates(marker, 2, (state) => state === "S");
      client.send({ type: "signal", id: "slow", signal: "SIGSTOP" });
      await untilStates(marker, 2, (state) => state === "T");
      // Before, the SIGINT waited on the stopped shell, and the grace's end killed it and dropped "next".
      expect((await client.runToExit("slow")).exit).toMatchObject({ code: null, signal: "SIGINT", reason: "timeout" });
      const next = await client.runToExit("next");
      expect(next.exit).toMatchObject({ code: 0, signal: null, reason: "exited" });
      expect(next.stdout).toBe("kept=yes\n");
    });

    test("a paused exec does not outlive a server that is killed", async () => {
      const server = await startServer({ args: backend.args });
      const client = await connect(server);
      const marker = `crash-${randomUUID()}`;
      client.send({ type: "exec", id: "job", env: { STOP_TEST_MARK: marker }, cmd: "echo begun; sleep 100" });
      await client.next((message) => message.type === "output" && message.id === "job");
      await untilStates(marker, 2, (state) => state === "S");
      client.send({ type: "signal", id: "job", signal: "SIGSTOP" });
      await untilStates(marker, 2, (state) => state === "T");
      // The server stops the group, then continues the reaper: a kill between the two left the
      // reaper stopped (1 run in ~15). The pause is done once the reaper runs again.
      await untilReaperRuns(marker);
      server.process.kill("SIGKILL");
      await server.process.exited;
      // Under none the reaper, stopped with its group, never saw the server go (its fd 4).
      await untilGone(marker);
      await client[Symbol.asyncDispose]();
      await server[Symbol.asyncDispose]();
    });
  });
}

describe.skipIf(noBwrap)("SIGSTOP under bwrap, one process at a time", () => {
  test("stops every process of a tree that forks meanwhile, the children it forked while being stopped included", async () => {
    await using server = await startServer();
    await using client = await connect(server);
    const marker = `forking-${randomUUID()}`;
    // Six shells fork as fast as they can; a process signalled during its fork stops after it, and
    // its new child, which no look at the namespace had seen, ran on.
    client.send({ type: "exec", id: "job", env: { STOP_TEST_MARK: marker }, cmd: "echo begun; for j in 1 2 3 4 5 6; do (for i in $(seq 80); do sleep 1000 & done) & done; wait" });
    await client.next((message) => message.type === "output" && message.id === "job");
    client.send({ type: "signal", id: "job", signal: "SIGSTOP" });
    let states: string[] = [];
    for (let look = 0; look < 2000; look++) {
      states = statesOf(marker);
      if (states.length > 0 && states.every((state) => state === "T")) break;
      await Bun.sleep(5);
    }
    expect(states.filter((state) => state !== "T")).toEqual([]);
    client.send({ type: "signal", id: "job", signal: "SIGKILL" });
    expect((await client.runToExit("job")).exit).toMatchObject({ signal: "SIGKILL", reason: "killed" });
  });

  test("an interactive bash on a PTY, paused and resumed, keeps its foreground job in the foreground", async () => {
    await using server = await startServer();
    await using client = await connect(server);
    const marker = `pty-${randomUUID()}`;
    client.send({ type: "exec", id: "term", pty: { cols: 80, rows: 24 }, env: { STOP_TEST_MARK: marker, PS1: "$ " }, argv: ["bash", "--norc", "--noprofile", "-i"] });
    await client.next((message) => message.type === "started" && message.id === "term");
    // Background jobs forked before cat, each woken before it when it goes by pid: time for bash,
    // woken first, to look at its children while its foreground job is still stopped.
    client.send({ type: "stdin", id: "term", data: "for i in $(seq 40); do sleep 1000 & done 2>/dev/null; cat; echo after-$((6*7))\n" });
    await untilStates(marker, 42, (state) => state === "S");
    client.send({ type: "signal", id: "term", signal: "SIGSTOP" });
    await untilStates(marker, 42, (state) => state === "T");
    client.send({ type: "signal", id: "term", signal: "SIGCONT" });
    await untilStates(marker, 42, (state) => state === "S");
    // cat still reads the terminal: the line is its, then its end of file, then bash's `exit`.
    client.send({ type: "stdin", id: "term", data: "typed\n\x04" });
    let shown = "";
    while (!shown.includes("after-42")) shown += (await client.next<OutputMessage>((message) => message.type === "output" && message.id === "term")).data;
    client.send({ type: "stdin", id: "term", data: "exit\n" });
    const transcript = await client.runToExit("term");
    shown += transcript.stdout;
    // Woken before its job, bash found it stopped: "[1]+ Stopped cat", the terminal taken back,
    // `echo` run at once, and "typed" read by bash as a command.
    expect(shown).not.toContain("Stopped");
    expect(shown).not.toContain("command not found");
    expect(shown.indexOf("after-42")).toBeGreaterThan(shown.lastIndexOf("typed"));
    expect(transcript.exit).toMatchObject({ code: 0, reason: "exited" });
  });
});
