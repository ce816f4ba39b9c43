import { setUnrefTimeout } from "./timers.ts";

/**
 * How a session notices a dead connection. A half-open socket (a NAT, proxy or relay that stopped
 * forwarding without telling either end) delivers nothing and reports no error, so without this an
 * exec's `exited` and `session.closed` waited forever.
 */
export interface KeepaliveOptions {
  /** After this long without any message from the server, send `ping`. */
  idleMs: number;
  /** After the `ping`, give up when nothing at all has arrived within this long. */
  timeoutMs: number;
}

/**
 * 15 s of silence, then 10 s for an answer: a dead socket is noticed within 25 s, before the
 * server's own 45 s default `--idle-timeout` lets it go. The server answers `ping` at once, so 10 s
 * leaves room for a slow network, a loaded server and a garbage collection pause. A quiet session
 * costs one small message each way every 15 s, which also keeps proxies' 60 s idle limits away.
 */
export const DEFAULT_KEEPALIVE: KeepaliveOptions = { idleMs: 15_000, timeoutMs: 10_000 };

/** What the keepalive needs from its session. */
export interface KeepaliveHooks {
  /** Sends `ping` (nothing when the socket cannot send any more). */
  ping(): void;
  /** Nothing arrived in time: the connection is dead. Called at most once; no timer is left. */
  dead(reason: string): void;
}

/** A running keepalive: the session reports every frame it receives, and stops it when the socket closes. */
export interface Keepalive {
  received(): void;
  stop(): void;
}

/**
 * Starts the liveness check. Any frame counts as life, output and binary frames included: while a
 * large output streams in no ping is sent at all, and a `pong` is only the answer of last resort.
 * A client that reads nothing (an ack window that is full) gets no output, but the server answers
 * `ping` regardless of windows, so it is never taken for dead.
 */
export function startKeepalive(options: KeepaliveOptions, hooks: KeepaliveHooks): Keepalive {
  let frames = 0;
  let lastFrameMs = performance.now();
  let cancel: () => void = () => {};

  const arm = (delayMs: number, check: () => void) => {
    cancel = setUnrefTimeout(check, delayMs);
  };
  const waitForSilence = () => {
    const silentMs = performance.now() - lastFrameMs;
    if (silentMs < options.idleMs) return arm(options.idleMs - silentMs, waitForSilence);
    hooks.ping();
    waitForAnything(frames);
  };
  const waitForAnything = (framesAtPing: number) => {
    const dueMs = performance.now() + options.timeoutMs;
    arm(options.timeoutMs, () => {
      if (frames !== framesAtPing) return waitForSilence();
      // A timer that fires late had a busy event loop before it (a long synchronous task): Node
      // runs expired timers before it reads its sockets, so an answer that came meanwhile still
      // waits there unread. The wait starts again rather than judge it missing.
      if (performance.now() - dueMs > options.timeoutMs / 2) return waitForAnything(framesAtPing);
      hooks.dead(`keepalive: no message within ${options.timeoutMs} ms of a ping`);
    });
  };

  arm(options.idleMs, waitForSilence);
  return {
    received() {
      frames++;
      lastFrameMs = performance.now();
    },
    stop: () => cancel(),
  };
}
