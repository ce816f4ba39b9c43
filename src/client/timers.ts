/**
 * A timeout that never keeps a Node or Bun process alive by itself: while a session is open its
 * socket does that, and once the socket is gone a pending keepalive or connect timer must not hold
 * a finished program for seconds. Browsers' timers (numbers) have nothing to unref.
 * Returns the function that cancels it.
 */
export function setUnrefTimeout(callback: () => void, delayMs: number): () => void {
  const timer: unknown = setTimeout(callback, delayMs);
  (timer as { unref?: () => void } | undefined)?.unref?.();
  return () => clearTimeout(timer as Parameters<typeof clearTimeout>[0]);
}
