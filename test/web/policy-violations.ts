import type { BrowserContext } from "playwright-core";

/**
 * Tells a policy's message on the console from the page's other errors (a dropped socket, say): a
 * Content-Security-Policy refusal, Trusted Types' ("This document requires 'TrustedHTML'
 * assignment"), a Permissions-Policy refusal, and a complaint about the Permissions-Policy header
 * itself (a feature this browser does not know).
 */
const POLICY_MESSAGE = /Content Security Policy|Trusted ?Type|Permissions[- ]Policy/i;

/** The policy violations (Content-Security-Policy, Trusted Types, Permissions-Policy) that pages of some browser contexts reported. */
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
 * Records every policy violation that pages of `context` report, from before their first script
 * runs: each `securitypolicyviolation` event of a document (its frames' too; Trusted Types' refusals
 * are among them), each Permissions-Policy report (a ReportingObserver's), and each console message
 * about a policy (which is how a refused frame-ancestors shows: in the console of the page that
 * tried to frame). Call before the context opens a page.
 */
export async function watchPolicyViolations(context: BrowserContext, record: { add(line: string): void }): Promise<void> {
  await context.exposeBinding("__bunkerPolicyViolation", (_source, line: string) => record.add(line));
  await context.addInitScript(() => {
    const report = (window as unknown as { __bunkerPolicyViolation: (line: string) => void }).__bunkerPolicyViolation;
    const described = (event: SecurityPolicyViolationEvent) => `${event.effectiveDirective} refused ${event.blockedURI} on ${event.documentURI}`;
    document.addEventListener("securitypolicyviolation", (event) => void report(described(event)), true);
    type PermissionsPolicyReport = { featureId?: string; message?: string };
    const reported = (body: PermissionsPolicyReport | null) => `permissions-policy refused ${body?.featureId} on ${location.href}: ${body?.message}`;
    new ReportingObserver((reports) => reports.forEach((each) => void report(reported(each.body as PermissionsPolicyReport | null))), { types: ["permissions-policy-violation"], buffered: true }).observe();
  });
  context.on("console", (message) => {
    if (POLICY_MESSAGE.test(message.text())) record.add(`console ${message.type()}: ${message.text()}`);
  });
}
