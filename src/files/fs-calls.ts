import * as fs from "node:fs";

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

export const openFd = promisify(fs.open) as (path: string | Buffer, flags: number, mode?: number) => Promise<number>;
export const fstatFd = promisify(fs.fstat) as (fd: number) => Promise<fs.Stats>;
/** fstat with times in nanoseconds (and every field a bigint). */
export const fstatExactFd = (fd: number): Promise<fs.BigIntStats> =>
  new Promise((resolve, reject) => fs.fstat(fd, { bigint: true }, (error, stats) => (error ? reject(error) : resolve(stats))));
export const fchownFd = promisify(fs.fchown) as (fd: number, uid: number, gid: number) => Promise<void>;
export const fchmodFd = promisify(fs.fchmod) as (fd: number, mode: number) => Promise<void>;
export const ftruncateFd = promisify(fs.ftruncate) as (fd: number, length: number) => Promise<void>;
export const fsyncFd = promisify(fs.fsync) as (fd: number) => Promise<void>;
export const lstatPath = promisify(fs.lstat) as (path: string | Buffer) => Promise<fs.Stats>;
export const readlinkPath = promisify(fs.readlink) as (path: string | Buffer) => Promise<string>;
export const mkdirPath = promisify(fs.mkdir) as (path: string, mode: number) => Promise<void>;
export const renamePath = promisify(fs.rename) as (from: string | Buffer, to: string | Buffer) => Promise<void>;
export const linkPath = promisify(fs.link) as (existing: string | Buffer, created: string | Buffer) => Promise<void>;
export const unlinkPath = promisify(fs.unlink) as (path: string | Buffer) => Promise<void>;
export const rmdirPath = promisify(fs.rmdir) as (path: string | Buffer) => Promise<void>;
export const readdirNames = promisify(fs.readdir) as (path: string) => Promise<string[]>;
/** A directory's names as the bytes they are: not every name is valid UTF-8. */
export const readdirBytes = (path: string): Promise<Buffer[]> => fs.promises.readdir(path, { encoding: "buffer" });
export const realpathPath = promisify(fs.realpath) as (path: string) => Promise<string>;

/** Closes an fd, ignoring errors: every caller is already on its way out. */
export function closeFd(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Already closed, or never valid: nothing left to release.
  }
}

/** Reads up to `length` bytes at `position` into `buffer`; returns how many were read (0 at end). */
export function readAt(fd: number, buffer: Uint8Array, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buffer, 0, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
  });
}

/** Writes all of `bytes` at `position` (or at the end with O_APPEND and null). */
export async function writeAllAt(fd: number, bytes: Uint8Array, position: number | null): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const written = await new Promise<number>((resolve, reject) => {
      fs.write(fd, bytes, done, bytes.length - done, position === null ? null : position + done, (error, count) => (error ? reject(error) : resolve(count)));
    });
    done += written;
  }
}
