import { installFile } from "../install-file.ts";
import type { SeccompArch } from "./arch.ts";
import { buildSeccompFilter } from "./build-filter.ts";

/**
 * Writes the filter for `arch` to `<dir>/seccomp-<arch>.bpf` (mode 0444) and returns its path, for
 * the server to open once per exec and hand to bwrap as `--seccomp FD`. Each exec needs its own
 * open: bwrap reads the fd to its end, and dup'd fds share one offset (see installFile).
 */
export function installSeccompFilter(dir: string, arch: SeccompArch): string {
  return installFile(dir, `seccomp-${arch}.bpf`, buildSeccompFilter(arch), 0o444);
}
