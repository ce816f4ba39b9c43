import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { connect } from "../helpers/client.ts";
import { startServer } from "../helpers/server-process.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

/**
 * The one-letter states (/proc/<pid>/stat) of the host's processes that carry `marker` in their
 * environment (the exec's own env), the reaper left out: it is no process of the command's.
 */
function statesOf(marker: string): string[] {
  const states: string[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, "utf8").split("\0").includes(`STOP_TEST_MARK=${marker}`)) continue;
      if (readFileSync(`/proc/${name}/comm`, "utf8").startsWith("reap")) continue;
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
  });
}
