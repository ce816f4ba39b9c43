import { constants } from "node:os";

const SIGNAL_BY_NUMBER = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name]),
);

/**
 * Reads a wrapper's exit code when the true wait status is unknown. Only when the tree is known to
 * have been killed (bunker or the client signalled it, or bwrap's pid 1 died without its record) is
 * 128+N taken to mean signal N; otherwise a command's own `exit 137` stays a code.
 */
export function describeExitCode(code: number, killed: boolean): { code: number | null; signal: string | null } {
  if (killed && code > 128 && SIGNAL_BY_NUMBER.has(code - 128)) {
    return { code: null, signal: SIGNAL_BY_NUMBER.get(code - 128)! };
  }
  return { code, signal: null };
}

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM (operation not permitted)",
  2: "ENOENT (no such file or directory)",
  7: "E2BIG (argument list too long)",
  8: "ENOEXEC (not an executable format)",
  12: "ENOMEM (out of memory)",
  13: "EACCES (permission denied)",
  20: "ENOTDIR (a path component is not a directory)",
  21: "EISDIR (is a directory)",
  26: "ETXTBSY (text file busy)",
  40: "ELOOP (too many symbolic links)",
};

/**
 * The exit code of a command whose execve failed (a Linux errno, from the reaper), as shells,
 * `docker exec` and `kubectl exec` give it: 127 when there is no such file, 126 when it exists but
 * cannot be executed (no x bit, a directory, not an executable format). The reaper exits 127 for
 * every failure.
 */
export function cannotExecuteCode(errno: number): number {
  return errno === LINUX_ENOENT || errno === LINUX_ENOTDIR ? 127 : 126;
}
const LINUX_ENOENT = 2;
const LINUX_ENOTDIR = 20;

/** A readable name for a Linux errno value. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}
