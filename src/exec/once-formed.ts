/**
 * How often, and how many times (about a second), what comes right after a spawn looks again for
 * the process tree it needs: a signal for the process group (tree-signals.ts), a keystroke for the
 * terminal's foreground group (pty-stdin-gate.ts). A few milliseconds usually; a second is the
 * most, for a host where the state never comes (no setsid(1)).
 */
export const LOOK_EVERY_MS = 2;
export const LOOKS = 500;

/** Calls `then` once `formed` holds, looking at once and every LOOK_EVERY_MS, or after LOOKS looks anyway. */
export function onceFormed(formed: () => boolean, then: () => void, looksLeft = LOOKS): void {
  if (formed() || looksLeft === 0) return then();
  setTimeout(() => onceFormed(formed, then, looksLeft - 1), LOOK_EVERY_MS);
}
