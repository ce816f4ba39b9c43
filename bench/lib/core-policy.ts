/**
 * The core bwrap policy, for the benchmarks: namespaces, mounts, the workspace bind and the reaper,
 * as the core issue built them; none of what the hardening added later (the seccomp filter,
 * resource limits set by the reaper, protected paths, the size cap on /tmp). `bunker serve` has no
 * setting for it (deny by default): the echo benchmark's server reaches it through runServe's
 * adjustSandbox hook (peers/bunker-core-policy.ts), and its bare spawn through prepareSandbox.
 */
import { createBwrapBackend } from "../../src/sandbox/bwrap.ts";
import type { DetectedSandbox } from "../../src/sandbox/detect.ts";
import { installReaper, reaperArchFor } from "../../src/sandbox/reaper.ts";
import { createRuntimeDir } from "../../src/sandbox/runtime-dir.ts";
import { readSystemMounts } from "../../src/sandbox/system-mounts.ts";

/** `full` (a detected bwrap sandbox) with only the core policy; disposing it disposes `full` too. */
export function coreBwrapSandbox(full: DetectedSandbox): DetectedSandbox {
  const bwrapPath = Bun.which("bwrap");
  const arch = reaperArchFor(process.arch);
  if (full.info.backend !== "bwrap" || !bwrapPath || !arch) throw new Error("the core policy needs a working bwrap");
  // A reaper of its own: the detected backend does not say where it installed its copy.
  const runtimeDir = createRuntimeDir();
  const core = createBwrapBackend({ bwrapPath, reaperPath: installReaper(runtimeDir.path, arch), systemMounts: readSystemMounts(), lookUpPrograms: true });
  return {
    backend: {
      ...core,
      buildCommand(spec, policy) {
        const { rlimits: _rlimits, protectedPaths: _protectedPaths, ...coreSpec } = spec;
        const { tmpSizeBytes: _tmpSizeBytes, ...corePolicy } = policy;
        return core.buildCommand(coreSpec, corePolicy);
      },
    },
    info: full.info,
    seccomp: false,
    rlimits: false,
    dispose() {
      runtimeDir.dispose();
      full.dispose();
    },
  };
}
