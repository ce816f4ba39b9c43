import type { OutputLog } from "./output-log.ts";

/** IXON in c_iflag: the same value on Linux (0o2000) is 0x200 on macOS. */
const IXON = process.platform === "darwin" ? 0x200 : 0o2000;
const STOP = "\x13";
const START = "\x11";

/**
 * Backpressure for a PTY. Bun.Terminal reads the master as fast as data comes and cannot pause, so
 * bunker pauses the other side instead: when the log has no room it types STOP (^S) into the
 * terminal, and START (^Q) once there is room. With IXON set (the default, and what a flooding
 * `yes` runs with) the line discipline then holds the program's output and it blocks in write().
 * A program that turned IXON off (`stty raw`, `stty -ixon`: editors, tmux) cannot be paused at all,
 * as Bun.Terminal cannot stop reading: past its hard cap the log drops the oldest bytes, and a
 * reader that was due them gets a `gap`. Memory stays bounded either way, and a client's ack window
 * still bounds what it is sent (subscription.ts).
 */
export function createPtyFlowControl(terminal: Bun.Terminal, log: OutputLog): { afterAppend(): void; resumed(): Promise<void> | undefined } {
  let paused: Promise<void> | undefined;
  return {
    afterAppend() {
      if (paused) return;
      const room = log.waitForRoom();
      if (!room || terminal.closed || (terminal.inputFlags & IXON) === 0) return;
      terminal.write(STOP);
      paused = room.then(() => {
        paused = undefined;
        if (!terminal.closed) terminal.write(START);
      });
    },
    /** While paused: settles once output flows again (held output still has to come out). */
    resumed() {
      return paused;
    },
  };
}
