/**
 * A Bun.Terminal together with the fd of its master end, which Bun does not expose, so that the
 * output the kernel still holds for it can be read when the command is gone (readHeldOutput).
 */
import { chownSync, closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";

/** st_rdev of the PTY multiplexer on Linux (major 5, minor 2): what every PTY master is opened from. */
const PTMX_RDEV = (5 << 8) | 2;
/** One read of what is held; the kernel's queue for a terminal is about as long. */
const HELD_READ_BYTES = 64 * 1024;

/** A terminal, and its master's fd where it could be told (Linux); undefined elsewhere. */
export interface OpenedTerminal {
  terminal: Bun.Terminal;
  masterFd: number | undefined;
}

/**
 * Makes a Bun.Terminal and finds its master. openpty(3) opens the master first, at the lowest
 * free fd, and terminals are made on this thread only: the fd that was the lowest free one just
 * before is the master if it is a PTY master now. Another thread that opened or closed an fd in
 * between leaves something else there (or nothing): then the master is not known, and not guessed.
 */
export function openTerminal(options: Bun.TerminalOptions, owner?: { uid: number; gid: number }): OpenedTerminal {
  if (process.platform !== "linux") return { terminal: new Bun.Terminal(options), masterFd: undefined };
  const lowestFree = openSync("/dev/null", "r");
  closeSync(lowestFree);
  const terminal = new Bun.Terminal(options);
  const masterFd = isPtyMaster(lowestFree) ? lowestFree : undefined;
  if (owner && masterFd !== undefined) giveTerminalTo(masterFd, owner);
  return { terminal, masterFd };
}

/**
 * Gives the terminal's other end (/dev/pts/N) to the command's user (--run-as), as runc gives a
 * container's console to its user. It was the server's (root's, mode 0620): under bwrap, where it is
 * /dev/console, `echo hi > $(tty)`, an open of ttyname(0), GPG_TTY=$(tty) and mesg failed with
 * EACCES though /dev/tty worked (found by a review). N is the master's `tty-index` (fdinfo), which
 * no other terminal can take while the master is open. Where it cannot be done the terminal stays
 * as it was.
 */
function giveTerminalTo(masterFd: number, owner: { uid: number; gid: number }): void {
  try {
    const index = /^tty-index:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${masterFd}`, "utf8"))?.[1];
    if (index !== undefined) chownSync(`/dev/pts/${index}`, owner.uid, owner.gid);
  } catch {
    // Not ours to give (a server that is not root runs commands as itself anyway).
  }
}

function isPtyMaster(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isCharacterDevice() && stat.rdev === PTMX_RDEV;
  } catch {
    return false;
  }
}

/**
 * Reads, once, what the kernel still holds for the terminal's master, and passes it to `take`;
 * false when it holds nothing. Linux moves a terminal's output from the command's end to the
 * master's in a kernel work queue, and only then does the master poll readable: on a loaded
 * machine that work ran up to hundreds of milliseconds after the command's exit, past the quiet
 * time, and `echo hi` on a PTY came back empty with exit 0 (under `none`, 6 of 8,025 at a load of
 * 25 to 30; none of 7,789 with this read). A read of the master runs that work, or waits for it
 * (n_tty_read: tty_buffer_flush_work), before it says there is nothing (EAGAIN: Bun made the
 * master non-blocking). That wait is this thread's: 67 ms at most in 15,000 reads under load.
 * Bun's own reader is passed by, harmlessly: it runs on this thread too, so what it read has been
 * delivered. The terminal must be open: a closed master's fd number may be another file's by now.
 */
export function readHeldOutput(opened: OpenedTerminal, take: (bytes: Uint8Array) => void): boolean {
  if (opened.masterFd === undefined || opened.terminal.closed) return false;
  const buffer = new Uint8Array(HELD_READ_BYTES);
  let count: number;
  try {
    count = readSync(opened.masterFd, buffer);
  } catch {
    // EAGAIN: nothing is held. EIO: no process has the terminal's other end (Bun closed its own).
    return false;
  }
  if (count <= 0) return false;
  take(buffer.subarray(0, count));
  return true;
}
