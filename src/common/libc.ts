/**
 * The few libc calls that Node and Bun have no function for, or only one that throws where a return
 * value would do: through bun:ffi, loaded on first use. Linux with glibc only: elsewhere (macOS, a
 * musl host) `libc()` is null and callers keep their own way.
 */
export interface LibcCalls {
  /** pipe2(2): both fds into `fds`; 0, or -1 on failure. */
  pipe2(fds: Int32Array, flags: number): number;
  fcntl(fd: number, command: number, argument: number): number;
  /**
   * kill(2): 0, or -1 on failure (no such process, not permitted). Unlike process.kill, no
   * exception: a signal to a process group that had just ended cost ~15 µs on the way to every
   * exit under `none` (an Error built and thrown), 3 µs this way (measured cold, one per 2 ms).
   */
  kill(pid: number, signal: number): number;
  /**
   * Waits up to `timeoutMs` for `fd` to be readable (poll(2) on one fd): true when it is (or has
   * ended, or failed: a read then says which), false at the timeout.
   */
  waitReadable(fd: number, timeoutMs: number): boolean;
  /**
   * renameat2(2) with RENAME_NOREPLACE, paths from the working directory: 0, or -1 on failure
   * (`to` exists, or the filesystem cannot: callers then fall back to their own way, which says why).
   */
  renameNoReplace(from: string, to: string): number;
}

/** renameat2's "no directory fd": paths are taken as they are. */
const AT_FDCWD = -100;
/** renameat2's flag: fail with EEXIST rather than replace `to`. */
const RENAME_NOREPLACE = 1;

/** POLLIN, in struct pollfd's `events`. */
const POLLIN = 1;

/** undefined until first asked; null where libc could not be loaded. */
let calls: LibcCalls | null | undefined;

export function libc(): LibcCalls | null {
  calls ??= load();
  return calls;
}

function load(): LibcCalls | null {
  if (process.platform !== "linux") return null;
  try {
    const { dlopen, FFIType, ptr } = require("bun:ffi") as typeof import("bun:ffi");
    const { symbols } = dlopen("libc.so.6", {
      pipe2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      fcntl: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      kill: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
      renameat2: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    });
    // A C string, passed as the array itself: bun:ffi holds it for the call (a pointer taken first
    // leaves the buffer free to be collected while the next argument is made).
    const text = (path: string) => Buffer.from(`${path}\0`);
    // struct pollfd { int fd; short events; short revents; }, one, reused.
    const pollfd = new Int32Array(2);
    return {
      pipe2: (fds, flags) => symbols.pipe2(ptr(fds), flags),
      fcntl: (fd, command, argument) => symbols.fcntl(fd, command, argument),
      kill: (pid, signal) => symbols.kill(pid, signal),
      waitReadable(fd, timeoutMs) {
        pollfd[0] = fd;
        pollfd[1] = POLLIN;
        return symbols.poll(ptr(pollfd), 1, timeoutMs) !== 0;
      },
      renameNoReplace: (from, to) => symbols.renameat2(AT_FDCWD, text(from), AT_FDCWD, text(to), RENAME_NOREPLACE),
    };
  } catch {
    return null;
  }
}
