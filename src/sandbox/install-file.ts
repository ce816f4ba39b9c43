import { randomText } from "../common/random-text.ts";
import { chmodSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Writes `bytes` to `<dir>/<name>` with `mode` and returns the path. Written to a temporary name
 * and renamed, so a concurrent exec never reads a half-written file; `dir` must be private to the
 * server (its runtime directory), or another user could swap the file.
 */
export function installFile(dir: string, name: string, bytes: Uint8Array, mode: number): string {
  const path = join(dir, name);
  const temp = join(dir, `.${name}.${process.pid}.${randomText(6, "hex")}.tmp`);
  try {
    writeFileSync(temp, bytes, { mode, flag: "wx" });
    chmodSync(temp, mode); // the umask may have narrowed the mode
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return path;
}
