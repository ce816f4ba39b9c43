import type { DetectedSandbox } from "../sandbox/detect.ts";

/** Everything a running server needs, defaults applied (see resolveServeOptions in cli/). */
export interface ServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** undefined: no authentication (`--no-auth`). */
  token: string | undefined;
  /** Origins besides the server's own that may open a WebSocket, exactly as browsers send them. */
  allowedOrigins: readonly string[];
  /** Real path of the directory that holds the workspaces. */
  workspaceRoot: string;
  workspaceRetention: "keep" | "delete";
  sandbox: DetectedSandbox;
  allowNetwork: boolean;
  limits: ServerLimits;
}

/** Server-wide limits; every count and size is checked where the thing is created. */
export interface ServerLimits {
  maxExecsPerSession: number;
  maxExecs: number;
  /** Default for execs that give no timeoutMs; 0 means the maximum. */
  execTimeoutMs: number;
  /** Cap on any exec's timeout; 0 means none. */
  maxExecTimeoutMs: number;
  /** Server default and cap for maxOutputBytes; undefined means no limit. */
  maxOutputBytes: number | undefined;
  /** Largest frame a client may send; bigger ones close the connection with 1009. */
  maxFrameBytes: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxExecsPerSession: 16,
  maxExecs: 64,
  execTimeoutMs: 0,
  maxExecTimeoutMs: 0,
  maxOutputBytes: undefined,
  maxFrameBytes: 1024 * 1024,
};
