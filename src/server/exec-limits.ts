import type { ServerLimits } from "./options.ts";

/** An exec's wall-clock limit: its own, else the server default; 0 means the server maximum; never above the cap. 0 in the result: none. */
export function effectiveTimeoutMs(requested: number | undefined, limits: ServerLimits): number {
  const wanted = requested ?? limits.execTimeoutMs;
  if (limits.maxExecTimeoutMs === 0) return wanted;
  return wanted === 0 ? limits.maxExecTimeoutMs : Math.min(wanted, limits.maxExecTimeoutMs);
}

/** An exec's output cap over stdout and stderr together: the lower of its own and the server's; Infinity for none. */
export function effectiveMaxOutputBytes(requested: number | undefined, limits: ServerLimits): number {
  return Math.min(requested ?? Infinity, limits.maxOutputBytes ?? Infinity);
}
