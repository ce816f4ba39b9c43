import {
  closeSync,
  fchmod,
  fchown,
  fstat,
  fsync,
  ftruncate,
  link,
  lstat,
  mkdir,
  open,
  read,
  readdir,
  readlink,
  realpath,
  rename,
  rmdir,
  unlink,
  write,
  type BigIntStats,
  type Stats,
} from "node:fs";

// node:fs/promises speaks FileHandle, which closes itself on garbage collection and warns; the walk
// needs plain numeric fds that it closes itself, so these are the callback calls as promises.

/**
 * A callback call as a promise, as node:util's promisify makes it (for calls without a custom
 * form): importing node:util cost the compiled binary ~3 ms of its start (see cli/parse-flags.ts).
 * Loosely typed inside; each export below says its own signature.
 */
function promisify(call: (...args: any[]) => void): (...args: any[]) => Promise<any> {
  return (...args) => new Promise((resolve, reject) => call(...args, (error: unknown, value: unknown) => (error ? reject(error) : resolve(value))));
}

export const openFd = promisify(open) as (path: string | Buffer, flags: number, mode?: number) => Promise<number>;
export const fstatFd = promisify(fstat) as (fd: number) => Promise<Stats>;
/** fstat with times in nanoseconds (and every field a bigint). */
export const fstatExactFd = (fd: number): Promise<BigIntStats> =>
  new Promise((resolve, reject) => fstat(fd, { bigint: true }, (error, stats) => (error ? reject(error) : resolve(stats))));
export const fchownFd = promisify(fchown) as (fd: number, uid: number, gid: number) => Promise<void>;
export const fchmodFd = promisify(fchmod) as (fd: number, mode: number) => Promise<void>;
export const ftruncateFd = promisify(ftruncate) as (fd: number, length: number) => Promise<void>;
export const fsyncFd = promisify(fsync) as (fd: number) => Promise<void>;
export const lstatPath = promisify(lstat) as (path: string | Buffer) => Promise<Stats>;
export const readlinkPath = promisify(readlink) as (path: string | Buffer) => Promise<string>;
export const mkdirPath = promisify(mkdir) as (path: string, mode: number) => Promise<void>;
export const renamePath = promisify(rename) as (from: string | Buffer, to: string | Buffer) => Promise<void>;
export const linkPath = promisify(link) as (existing: string | Buffer, created: string | Buffer) => Promise<void>;
export const unlinkPath = promisify(unlink) as (path: string | Buffer) => Promise<void>;
export const rmdirPath = promisify(rmdir) as (path: string | Buffer) => Promise<void>;
export const readdirNames = promisify(readdir) as (path: string) => Promise<string[]>;
/** A directory's names as the bytes they are: not every name is valid UTF-8. */
export const readdirBytes = (path: string): Promise<Buffer[]> => new Promise((resolve, reject) => readdir(path, { encoding: "buffer" }, (error, names) => (error ? reject(error) : resolve(names))));
export const realpathPath = promisify(realpath) as (path: string) => Promise<string>;

/** Closes an fd, ignoring errors: every caller is already on its way out. */
export function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed, or never valid: nothing left to release.
  }
}

/** Reads up to `length` bytes at `position` into `buffer`; returns how many were read (0 at end). */
export function readAt(fd: number, buffer: Uint8Array, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
  });
}

/** Writes all of `bytes` at `position` (or at the end with O_APPEND and null). */
export async function writeAllAt(fd: number, bytes: Uint8Array, position: number | null): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const written = await new Promise<number>((resolve, reject) => {
      write(fd, bytes, done, bytes.length - done, position === null ? null : position + done, (error, count) => (error ? reject(error) : resolve(count)));
    });
    done += written;
  }
}
