/**
 * How an exec's output is known to be complete where no end of file says so: a PTY (Bun keeps the
 * terminal's other end open) and pipes that a process outside the tree still holds (seatbelt and
 * none, whose process groups a `setsid` daemon can leave).
 */
import type { ExecLogs } from "./run-exec.ts";

/** After the leader of a process group is gone, how long its escaped descendants may keep our pipes open. */
const ORPHAN_PIPE_GRACE_MS = 200;
/** Quiet time after which a terminal whose processes are gone is taken to have no more output. */
const PTY_QUIET_MS = 25;

/**
 * Bun keeps the terminal's other end open, so a PTY never reports end of file while the terminal
 * lives. Once the exec's processes are gone, what they wrote is in the terminal or on its way: wait
 * until output held by flow control has flowed again and the terminal has been quiet for a moment,
 * then take what the kernel still holds (`readHeld`, true when there was some: terminal-master.ts).
 */
export async function drainTerminal(lastDataAt: () => number, flowControl: { resumed(): Promise<void> | undefined }, readHeld: () => boolean, done: () => void): Promise<void> {
  for (;;) {
    const held = flowControl.resumed();
    if (held) {
      await held;
      continue;
    }
    const quietFor = performance.now() - lastDataAt();
    if (quietFor >= PTY_QUIET_MS) {
      // A loop that was busy for longer than the quiet time can run this timer before the terminal's
      // pending read, and the command's last output would be lost (seen once in CI: `stty size` under
      // load came back empty). One more turn of the loop, I/O included, then look again.
      const seen = lastDataAt();
      await Bun.sleep(1);
      if (lastDataAt() !== seen || flowControl.resumed()) continue;
      // Quiet to Bun is not yet quiet to the kernel, which can pass output on later (terminal-master.ts).
      if (readHeld()) continue;
      break;
    }
    await Bun.sleep(PTY_QUIET_MS - quietFor);
  }
  done();
}

/**
 * Waits for the pumps, but not forever: a `setsid` daemon that escaped the process group can hold a
 * pipe open. The grace starts once the pumps are not waiting for a slow client.
 */
export async function withOrphanGrace(pumps: Promise<[number, number]>, logs: ExecLogs, cancel: () => void): Promise<[number, number]> {
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ORPHAN_PIPE_GRACE_MS);
    });
    const first = await Promise.race([pumps, grace]);
    clearTimeout(timer);
    if (first) return first;
    // Output still queued for a slow client is the tree's own, not an orphan's: let it through.
    const congested = logs.stdout.waitForRoom() ?? logs.stderr.waitForRoom();
    if (!congested) break;
    await congested;
  }
  cancel();
  return pumps;
}
