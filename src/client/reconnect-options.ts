import { MAX_TIMEOUT_MS, type HelloMessage } from "../protocol/index.ts";
import type { BunkerError } from "./errors.ts";

/** `connect`'s `reconnect` option as an object; `true` is `{}`. */
export interface ReconnectOptions {
  /** How long after a drop to keep trying to resume the session, in milliseconds (default 30000). */
  timeoutMs?: number;
  /** Called before each attempt to resume the session after a drop. */
  onReconnecting?: (event: ReconnectingEvent) => void;
  /** Called once the session is back on a new socket, and its execs followed again. */
  onReconnected?: (event: ReconnectedEvent) => void;
}

/** An attempt to resume the session is about to be made. */
export interface ReconnectingEvent {
  /** 1 for the first attempt after a drop (made at once), 2 for the next, and so on. */
  attempt: number;
  /** How long this attempt waits before it connects: 0, then 250, 500, 1000, 2000, 4000, 5000... */
  delayMs: number;
  /** The drop: `connection_closed` with the socket's close code (1006 for a cut, or the keepalive's). */
  cause: BunkerError;
  /** Why the attempt before this one failed; undefined for the first. */
  lastError: BunkerError | undefined;
}

/** The session is back. */
export interface ReconnectedEvent {
  /** The attempts it took, this one included. */
  attempts: number;
  /** From the drop to the new `hello`. */
  outageMs: number;
  cause: BunkerError;
  /** The new socket's `hello` (`execs` says what the session has). */
  hello: HelloMessage;
}

/** The reconnect settings with defaults applied; undefined in ResolvedConnectOptions when off. */
export interface ResolvedReconnect {
  timeoutMs: number;
  onReconnecting: ((event: ReconnectingEvent) => void) | undefined;
  onReconnected: ((event: ReconnectedEvent) => void) | undefined;
}

/** Long enough for a Wi-Fi roam or a proxy restart; `bunker exec --reconnect-timeout-ms` defaults to it too. */
export const DEFAULT_RECONNECT_TIMEOUT_MS = 30_000;

const KEYS = ["timeoutMs", "onReconnecting", "onReconnected"];

/** Applies the defaults of `reconnect`; throws a TypeError quoting what is wrong. */
export function resolveReconnectOptions(reconnect: unknown): ResolvedReconnect | undefined {
  if (reconnect === undefined || reconnect === false) return undefined;
  if (reconnect === true) return { timeoutMs: DEFAULT_RECONNECT_TIMEOUT_MS, onReconnecting: undefined, onReconnected: undefined };
  if (typeof reconnect !== "object" || reconnect === null || Array.isArray(reconnect)) {
    throw new TypeError(`connect: reconnect must be true, false or { timeoutMs, onReconnecting, onReconnected }, got ${JSON.stringify(reconnect)}`);
  }
  // A misspelt key (`timeout`) would otherwise leave the default in place unnoticed.
  const unknown = Object.keys(reconnect).find((key) => !KEYS.includes(key));
  if (unknown !== undefined) throw new TypeError(`connect: reconnect has no option ${JSON.stringify(unknown)} (it takes ${KEYS.join(", ")})`);
  const { timeoutMs, onReconnecting, onReconnected } = reconnect as ReconnectOptions;
  if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS)) {
    throw new TypeError(`connect: reconnect.timeoutMs must be an integer number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${typeof timeoutMs === "number" ? timeoutMs : JSON.stringify(timeoutMs)}`);
  }
  for (const [name, value] of [["onReconnecting", onReconnecting], ["onReconnected", onReconnected]] as const) {
    if (value !== undefined && typeof value !== "function") throw new TypeError(`connect: reconnect.${name} must be a function, got ${JSON.stringify(value)}`);
  }
  return { timeoutMs: timeoutMs ?? DEFAULT_RECONNECT_TIMEOUT_MS, onReconnecting, onReconnected };
}
