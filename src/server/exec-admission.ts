import type { ErrorCode, ExecMessage } from "../protocol/index.ts";
import type { ServerOptions } from "./options.ts";

/** The slots an exec would take against the limits, as the session counts them now. */
export interface SlotsInUse {
  /** False for a command of a live persistent shell, which rides on its shell's slot. */
  needsSlot: boolean;
  /** Slots the session holds (--max-execs-per-session). */
  sessionSlots: number;
  /** Slots the server holds (--max-execs). */
  serverSlots: number;
}

/** Why the server refuses to start this exec now (its limits, its network policy), or undefined. */
export function execAdmissionProblem(message: ExecMessage, options: ServerOptions, slots: SlotsInUse): { code: ErrorCode; message: string } | undefined {
  const { limits } = options;
  if (slots.needsSlot && slots.sessionSlots >= limits.maxExecsPerSession) {
    return { code: "limit_exceeded", message: `this session already runs ${limits.maxExecsPerSession} execs and persistent shells, the most it may` };
  }
  if (slots.needsSlot && slots.serverSlots >= limits.maxExecs) {
    return { code: "limit_exceeded", message: `the server already runs ${limits.maxExecs} execs and persistent shells, the most it may` };
  }
  // As hello says it (sandbox.network): under none commands always have the network, so `true` restates it.
  if (message.network === true && !(options.sandbox.info.network ?? options.allowNetwork)) {
    return { code: "forbidden_by_policy", message: "network: this server runs commands without network; a request can only narrow its policy" };
  }
  if (message.readOnly === true && !options.sandbox.backend.enforcesReadOnly) {
    return { code: "sandbox_unavailable", message: `readOnly: the ${options.sandbox.backend.name} backend cannot keep a command from writing the workspace; this server cannot run read-only execs` };
  }
  return undefined;
}
