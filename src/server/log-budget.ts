/**
 * A cap on how many lines of one kind are written per second. A client that can make the server
 * log (an upgrade with a wrong token costs it nothing) must not be able to fill the disk: past the
 * cap lines are counted instead, and the next line written says how many were left out.
 */
export interface LogBudget {
  /** Whether a line may be written now; when it may, `suppressed` is the count left out before it. */
  take(nowMs: number): { allowed: false } | { allowed: true; suppressed: number };
}

export function createLogBudget(linesPerSecond: number): LogBudget {
  let windowStartMs = -Infinity;
  let written = 0;
  let suppressed = 0;
  return {
    take(nowMs) {
      if (nowMs - windowStartMs >= 1000) {
        windowStartMs = nowMs;
        written = 0;
      }
      if (written >= linesPerSecond) {
        suppressed++;
        return { allowed: false };
      }
      written++;
      const left = suppressed;
      suppressed = 0;
      return { allowed: true, suppressed: left };
    },
  };
}
