/**
 * Waiting for a condition on state that callbacks change, without polling or sleeping: `until`
 * resolves once `done()` holds, checked at once and again after each `changed()`.
 */
export function createConditions(): { until(done: () => boolean): Promise<void>; changed(): void } {
  const waiters = new Set<() => void>();
  return {
    until: (done) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!done()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    changed() {
      for (const waiter of [...waiters]) waiter();
    },
  };
}
