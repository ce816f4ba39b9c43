import { randomBytes } from "node:crypto";
import { chmodSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SeccompArch } from "./arch.ts";
import { buildSeccompFilter } from "./build-filter.ts";

/**
 * Writes the filter for `arch` to `<dir>/seccomp-<arch>.bpf` (mode 0444) and returns its path, for
 * the server to open once per exec and hand to bwrap as `--seccomp FD`. Each exec needs its own
 * open: bwrap reads the fd to its end, and dup'd fds share one offset. Written to a temporary name
 * and renamed, so a concurrent exec never reads half a filter; `dir` must be private to the server
 * (the reaper's runtime directory), or another user could swap the file.
 */
export function installSeccompFilter(dir: string, arch: SeccompArch): string {
  const path = join(dir, `seccomp-${arch}.bpf`);
  const temp = join(dir, `.seccomp-${arch}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    writeFileSync(temp, buildSeccompFilter(arch), { mode: 0o444, flag: "wx" });
    chmodSync(temp, 0o444); // the umask may have narrowed the mode
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return path;
}
