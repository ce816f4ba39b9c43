import type { BrowserContext } from "playwright-core";

/** Tells a Content-Security-Policy message on the console from the page's other errors (a dropped socket, say). */
const POLICY_MESSAGE = /Content Security Policy/i;

/** The Content-Security-Policy violations that pages of some browser contexts reported. */
export interface PolicyViolations {
  /** One line each, in the order they came. */
  readonly lines: readonly string[];
  /** Resolves with the first line from now on that matches `pattern`. */
  next(pattern: RegExp): Promise<string>;
}

/** An empty record; watchPolicyViolations fills it. */
export function createPolicyViolations(): PolicyViolations & { add(line: string): void } {
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  return {
    lines,
    next: (pattern) => new Promise((resolve) => waiters.add({ pattern, resolve })),
    add(line) {
      lines.push(line);
      for (const waiter of waiters) {
        if (!waiter.pattern.test(line)) continue;
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    },
  };
}

/**
 * Records every Content-Security-Policy violation that pages of `context` report, from before
 * their first script runs: each `securitypolicyviolation` event of a document (its frames' too),
 * and each console message about the policy (which is how a refused frame-ancestors shows: in the
 * console of the page that tried to frame). Call before the context opens a page.
 */
export async function watchPolicyViolations(context: BrowserContext, record: { add(line: string): void }): Promise<void> {
  await context.exposeBinding("__bunkerPolicyViolation", (_source, line: string) => record.add(line));
  await context.addInitScript(() => {
    const report = (window as unknown as { __bunkerPolicyViolation: (line: string) => void }).__bunkerPolicyViolation;
    const described = (event: SecurityPolicyViolationEvent) => `${event.effectiveDirective} refused ${event.blockedURI} on ${event.documentURI}`;
    document.addEventListener("securitypolicyviolation", (event) => void report(described(event)), true);
  });
  context.on("console", (message) => {
    if (POLICY_MESSAGE.test(message.text())) record.add(`console ${message.type()}: ${message.text()}`);
  });
}
