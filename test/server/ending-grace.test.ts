/**
 * When the server ends an exec (its timeoutMs, its maxOutputBytes) it sends SIGTERM to the whole
 * tree and SIGKILL a second later: that second is every process's, not only the first one's. A
 * `cmd` runs under /bin/sh, which SIGTERM ends at once; its children used to be killed with it
 * (by the reaper under bwrap, by the server's kill of the process group under none), before a
 * SIGTERM handler of their own could finish (found by a parity review against Kubernetes' grace).
 */
import { describe, expect, test } from "bun:test";
import type { ExitMessage, ServerMessage } from "../../src/protocol/index.ts";
import { countSleepers } from "../helpers/proc.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { useSharedServer } from "../helpers/shared-server.ts";

/** A shell line whose child shell cleans up for 0.3 s on SIGTERM, writing `cleaned.txt` at the end. */
const CLEANS_UP = `sh -c 'trap "sleep 0.3; echo cleaned > cleaned.txt; exit 0" TERM; sleep 1021 & wait'; echo after > after.txt`;
/** A shell line whose child ignores SIGTERM (and so does its sleep, which inherits that). */
const IGNORES_TERM = `sh -c 'trap "" TERM; sleep 1022'; echo after > after.txt`;
/** Long enough for the tree to be up before the timeout under a loaded machine, short for a test. */
const TIMEOUT_MS = 1500;
const KILL_GRACE_MS = 1000;

for (const sandbox of ["bwrap", "none"] as const) {
  describe.skipIf(sandbox === "bwrap" && noBwrap)(`ending an exec under --sandbox ${sandbox}`, () => {
    const shared = useSharedServer({ args: ["--sandbox", sandbox] });

    const read = async (id: string, file: string) => (await shared.client.exec({ id, cmd: `cat ${file} 2>/dev/null || echo missing` })).stdout;

    test("a timeout's SIGTERM leaves the children of a shell line their grace to clean up", async () => {
      const run = await shared.client.exec({ id: "cleans-up", cmd: CLEANS_UP, timeoutMs: TIMEOUT_MS });
      expect(run.exit).toMatchObject({ reason: "timeout", signal: "SIGTERM" });
      // Written 0.3 s after the SIGTERM, by a process the shell's death used to take with it.
      expect(await read("cleaned", "cleaned.txt")).toBe("cleaned\n");
      // The shell line itself did not go on.
      expect(await read("after", "after.txt")).toBe("missing\n");
      expect(countSleepers("1021")).toBe(0);
    }, 20_000);

    test("what ignores the SIGTERM is killed a second later, and the exit comes then, describing the first process", async () => {
      const run = await shared.client.exec({ id: "ignores", cmd: IGNORES_TERM, timeoutMs: TIMEOUT_MS });
      // The shell died of the SIGTERM; the SIGKILL after the grace does not overwrite that (under
      // bwrap it spares the reaper, which reports the shell's status once it has reaped the rest).
      expect(run.exit).toMatchObject({ reason: "timeout", code: null, signal: "SIGTERM" });
      expect(run.exit.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS + KILL_GRACE_MS - 50);
      expect(countSleepers("1022")).toBe(0);
      expect(await read("after-ignored", "after.txt")).toBe("missing\n");
    }, 20_000);

    test("a client's SIGKILL during the grace ends what is left at once", async () => {
      // The shell line's shell dies of the timeout's SIGTERM; its child prints and goes on. Under
      // none the leader (the reaper) has then exited, and signals went nowhere until the grace's SIGKILL.
      shared.client.send({ type: "exec", id: "killed-in-grace", cmd: `sh -c 'trap "echo term" TERM; while :; do sleep 0.05; done'; echo after`, timeoutMs: 500 });
      await shared.client.next((message: ServerMessage) => message.type === "output" && message.id === "killed-in-grace");
      shared.client.send({ type: "signal", id: "killed-in-grace", signal: "SIGKILL" });
      const exit = await shared.client.next<ExitMessage>((message: ServerMessage) => message.type === "exit" && message.id === "killed-in-grace");
      // Which signal it names differs: under bwrap the SIGKILL goes to the reaper, whose record goes with it.
      expect(exit).toMatchObject({ reason: "timeout", code: null });
      // The grace's own SIGKILL would come at 1500 ms.
      expect(exit.durationMs).toBeLessThan(500 + KILL_GRACE_MS - 300);
    }, 20_000);

    // Under bwrap only: there the reaper is pid 1 and kills what the command left; under none a
    // process in a session of its own outlives the exec by design (and pid 1 is the host's init).
    if (sandbox === "bwrap") {
      test("a SIGTERM that reaches the reaper from inside (a script's kill 0) does not keep the exec open for what is left", async () => {
        // The reaper shares the command's process group, so `kill 0` sends it SIGTERM too. Taken for
        // the server's, it left the daemon running and the exit waiting for it (until the timeout).
        const daemon = `mkfifo up; setsid sh -c 'echo > up; exec sleep 1023' & read ready < up; kill 0`;
        const run = await shared.client.exec({ id: "kill-0", cmd: daemon, timeoutMs: 10_000 });
        expect(run.exit).toMatchObject({ reason: "signaled", code: null, signal: "SIGTERM" });
        expect(run.exit.durationMs).toBeLessThan(5_000);
        expect(countSleepers("1023")).toBe(0);
      }, 30_000);
    }
  });
}
