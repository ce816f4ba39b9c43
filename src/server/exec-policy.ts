import type { ExecMessage } from "../protocol/index.ts";
import type { SandboxPolicy } from "../sandbox/types.ts";

/**
 * The sandbox policy of one exec (or of the persistent shell it starts): the session's, narrowed by
 * what the request asks (`network: false`, `readOnly: true`). A request never widens it; asking for
 * more is refused before this (exec-admission.ts).
 */
export function narrowPolicy(policy: SandboxPolicy, message: Pick<ExecMessage, "network" | "readOnly">): SandboxPolicy {
  if (message.network !== false && message.readOnly !== true) return policy;
  return {
    ...policy,
    ...(message.network === false && { allowNetwork: false }),
    ...(message.readOnly === true && { readOnly: true }),
  };
}
