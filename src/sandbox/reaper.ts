/**
 * The reaper: a tiny static program that bwrap execs as pid 1 of the sandbox's PID namespace
 * (`--as-pid-1`). It forks, execs the command, waits for it and writes the command's true wait
 * status to fd 4, because bwrap reports "killed by signal N" as exit code 128+N, which a real
 * `exit 137` also produces. As pid 1 it reaps every orphan, and its exit ends the whole sandbox:
 * it exits once the command has ended, when the outer bwrap dies (parent-death signal), and when
 * the server's end of fd 4 closes (which also covers a server killed while bwrap was still
 * setting the sandbox up). Source and contract: reaper/reaper-*.S; the machine code is generated
 * into reaper/reaper-code.ts.
 */
import { installFile } from "./install-file.ts";
import { buildStaticElf } from "./static-elf.ts";
import { REAPER_CODE_ARM64_HEX, REAPER_CODE_X64_HEX } from "./reaper/reaper-code.ts";

/** The CPU architectures the reaper exists for, named as `process.arch` names them. */
export type ReaperArch = "x64" | "arm64";

/** Maps a `process.arch` value to a reaper architecture, or undefined where there is no reaper. */
export function reaperArchFor(nodeArch: string): ReaperArch | undefined {
  if (nodeArch === "x64" || nodeArch === "arm64") return nodeArch;
  return undefined;
}

const CODE_HEX: Record<ReaperArch, string> = { x64: REAPER_CODE_X64_HEX, arm64: REAPER_CODE_ARM64_HEX };

/** Builds the complete static ELF64 executable of the reaper for one architecture. */
export function buildReaperElf(arch: ReaperArch): Uint8Array {
  return buildStaticElf(Buffer.from(CODE_HEX[arch], "hex"), arch);
}

/** Writes the reaper for `arch` to `<dir>/reap-<arch>` (mode 0555, see installFile) and returns its path. */
export function installReaper(dir: string, arch: ReaperArch): string {
  return installFile(dir, `reap-${arch}`, buildReaperElf(arch), 0o555);
}

/** Record kind: the command could not be started; the value is the errno. */
const RECORD_EXEC_ERRNO = 1;
/** Record kind: the command ended; the value is its raw wait status. */
const RECORD_WAIT_STATUS = 2;
const RECORD_BYTES = 8;

/**
 * Parses what the reaper wrote to fd 4: 8-byte records (u32 kind, i32 value, little-endian).
 * Never throws; unknown kinds and a trailing partial record are ignored. A failed exec yields both
 * `execErrno` and a `waitStatus` (exit 127); a reaper killed before reporting yields neither.
 */
export function decodeReaperRecords(bytes: Uint8Array): { execErrno?: number; waitStatus?: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const result: { execErrno?: number; waitStatus?: number } = {};
  for (let at = 0; at + RECORD_BYTES <= bytes.byteLength; at += RECORD_BYTES) {
    const kind = view.getUint32(at, true);
    const value = view.getInt32(at + 4, true);
    if (kind === RECORD_EXEC_ERRNO) result.execErrno = value;
    else if (kind === RECORD_WAIT_STATUS) result.waitStatus = value;
  }
  return result;
}

/** Linux signal numbers 1..31 (x86_64 and arm64 share them); index = number. */
const LINUX_SIGNAL_NAMES = [
  "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
  "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
  "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
  "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
] as const;

/** Names a Linux signal number; real-time signals (32..64) have no fixed name and read as "SIG34". */
export function linuxSignalName(signal: number): string {
  return LINUX_SIGNAL_NAMES[signal] || `SIG${signal}`;
}

/**
 * Turns a raw Linux wait status into facts: an exit code, or the name of the signal that killed
 * the command. The reaper only reports termination, never a stopped or continued child.
 */
export function describeWaitStatus(status: number): { code: number | null; signal: string | null } {
  const termSignal = status & 0x7f;
  if (termSignal === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: linuxSignalName(termSignal) };
}
