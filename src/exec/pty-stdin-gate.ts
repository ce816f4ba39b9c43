import { MAX_PENDING_STDIN_BYTES } from "../protocol/limits.ts";
import { readProcText, statFields } from "../common/proc.ts";
import type { TerminalStdinWriter } from "./stdin-writer.ts";
import { onceFormed } from "./once-formed.ts";

/**
 * Whether one of `pids` has a controlling terminal with a foreground process group (the `tpgid`
 * field of /proc/<pid>/stat), which `setsid --ctty` gives the command (controlling-terminal.ts).
 */
export function hasTerminalForeground(pids: readonly number[]): boolean {
  return pids.some((pid) => {
    const stat = readProcText(`/proc/${pid}/stat`);
    return stat !== undefined && Number(statFields(stat)[5]) > 0;
  });
}

/**
 * The processes that take the terminal: under bwrap the reaper's children (setsid runs inside,
 * right before the command; `reaperPid` is the reaper's host pid, undefined until bwrap has said
 * it), else the spawned process itself (setsid runs first and execs the rest).
 */
export function terminalTakers(tree: "pid-namespace" | "process-group", spawnedPid: number, reaperPid: number | undefined): number[] {
  if (tree === "process-group") return [spawnedPid];
  if (reaperPid === undefined) return [];
  const children = readProcText(`/proc/${reaperPid}/task/${reaperPid}/children`) ?? "";
  return children.split(" ").filter((pid) => pid !== "").map(Number);
}

/**
 * A PTY exec's stdin, held until the command has the terminal. Before `setsid --ctty` has run in
 * it, the terminal has no foreground process group, and a Ctrl-C written to it signals nobody and
 * is gone: sent right after `started` it was lost every time, and `sleep 3` ran on (found by a
 * review). So input that comes before then waits, in order, a few milliseconds at most (a second
 * where the terminal never gets one: a host without setsid(1)), and goes through at once after.
 * `ready` looks; it is asked only while input waits.
 */
export function gateTerminalStdin(inner: TerminalStdinWriter, ready: () => boolean): TerminalStdinWriter {
  let open = false;
  let waiting: Uint8Array[] = [];
  let waitingBytes = 0;
  let ended = false;
  let polling = false;

  const release = () => {
    open = true;
    for (const bytes of waiting) inner.write(bytes);
    waiting = [];
    if (ended) inner.end();
  };
  const startPolling = () => {
    if (polling) return;
    polling = true;
    onceFormed(ready, release);
  };

  return {
    write(bytes) {
      if (open) return inner.write(bytes);
      if (waitingBytes + bytes.byteLength > MAX_PENDING_STDIN_BYTES) return false;
      waiting.push(bytes);
      waitingBytes += bytes.byteLength;
      startPolling();
      return true;
    },
    end() {
      if (open) return inner.end();
      ended = true;
      startPolling();
    },
    drained: () => inner.drained(),
  };
}
