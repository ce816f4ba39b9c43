import { closeSync } from "node:fs";
import { libc } from "../common/libc.ts";

/**
 * Real pipes, pipe(2), for a command's stdin, stdout and stderr. Bun.spawn's "pipe" is a socketpair,
 * and Linux cannot open a socket through /proc/self/fd: inside every exec `echo x > /dev/stderr`,
 * `tee /dev/stdout` and `cat /dev/stdin` failed with ENXIO, and `[ -p /dev/stdin ]` was false, where
 * kubectl exec, docker exec and a shell's own pipelines give pipes (found by a review). Node and
 * Bun have no call that makes one, so pipe2 comes from libc through bun:ffi (common/libc.ts).
 * macOS opens a socket through /dev/fd (it dups it), and where libc cannot be loaded (a musl host),
 * openPipe returns undefined and the caller keeps Bun's socketpair.
 */
export interface OsPipe {
  read: number;
  write: number;
}

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const F_SETFL = 4;

/**
 * A new pipe, both ends close-on-exec (Bun.spawn dups the child's end into place, without the
 * flag), the server's end (`ours`) non-blocking as Bun's readers and writers expect; undefined
 * where pipes cannot be made here (see above) or the call failed (out of fds: the spawn will say).
 */
export function openPipe(ours: "read" | "write"): OsPipe | undefined {
  const pipe = openBlockingPipe();
  if (!pipe) return undefined;
  // A new pipe's end has no status flag but its access mode, which F_SETFL leaves alone: no F_GETFL
  // (one FFI call less per pipe, three per exec).
  if (libc()!.fcntl(ours === "read" ? pipe.read : pipe.write, F_SETFL, O_NONBLOCK) !== 0) {
    closePipe(pipe);
    return undefined;
  }
  return pipe;
}

/**
 * A new pipe with both ends blocking (and close-on-exec), for a read that must wait on the spot
 * (shared-network.ts), and openPipe's start; undefined where pipes cannot be made here or the call
 * failed.
 */
export function openBlockingPipe(): OsPipe | undefined {
  const calls = libc();
  if (!calls) return undefined;
  const fds = new Int32Array(2);
  if (calls.pipe2(fds, O_CLOEXEC) !== 0) return undefined;
  return { read: fds[0]!, write: fds[1]! };
}

export function closePipe(pipe: OsPipe): void {
  closeSync(pipe.read);
  closeSync(pipe.write);
}
