import type { SandboxInfo } from "../protocol/index.ts";
import type { ServerOptions } from "./options.ts";

/** What hello says of the sandbox: the backend as detected, and the policy it enforces. */
export function describeSandbox(options: ServerOptions): SandboxInfo {
  const { info } = options.sandbox;
  return {
    ...info,
    policy: {
      ...(options.runAs && { runAs: options.runAs }),
      seccomp: info.backend === "bwrap" && options.sandbox.seccomp,
      allowRead: info.backend === "bwrap" ? [...options.allowRead] : [],
      allowWrite: info.backend === "bwrap" ? [...options.allowWrite] : [],
      denyRead: info.backend === "bwrap" || info.backend === "seatbelt" ? options.denyRead.map(({ path }) => path) : [],
      protect: info.backend === "bwrap" ? [...options.protectPaths] : [],
      rlimits: options.sandbox.rlimits ? { ...options.rlimits } : {},
      ...(info.backend === "bwrap" && { tmpSizeBytes: options.tmpSizeBytes }),
    },
  };
}
