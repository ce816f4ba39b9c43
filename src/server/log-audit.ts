import type { ExecEvent } from "./options.ts";
import type { LogFields, Logger } from "./log.ts";
import { presentedToken, tokensMatch } from "./auth.ts";
import { createLogBudget } from "./log-budget.ts";

/**
 * How a connection authenticated, as audit lines say it (never the token): `off` with --no-auth,
 * `view` for a viewer that presented no token (its view secret is checked when it joins).
 */
export type AuthResult = "ok" | "off" | "missing" | "wrong" | "view";

export function authResultOf(request: Request, subprotocols: readonly string[], token: string | undefined): AuthResult {
  if (token === undefined) return "off";
  const presented = presentedToken(request, subprotocols);
  if (presented === undefined) return "missing";
  return tokensMatch(presented, token) ? "ok" : "wrong";
}

/** Refused upgrades are logged at most this often; the rest are counted in the next line. */
const REFUSAL_LOG_LINES_PER_SECOND = 100;

/**
 * Logs, within one budget, the lines a client without the token can cause: refused upgrades
 * (`connection.refused`), and the `connection.close` of a socket that presented no token (a
 * viewer, or a view secret that matched nothing). Either costs the client nothing; `suppressed`
 * counts the lines of both kinds left out.
 */
export function createRefusalLog(log: Logger): (event: "connection.refused" | "connection.close", fields: LogFields) => void {
  const budget = createLogBudget(REFUSAL_LOG_LINES_PER_SECOND);
  return (event, fields) => {
    const taken = budget.take(performance.now());
    if (taken.allowed) log.info(event, { ...fields, ...(taken.suppressed > 0 && { suppressed: taken.suppressed }) });
  };
}

/** Audit lines show the start of a command, not all of it: enough to know what ran, bounded in size. */
const MAX_ARG_CHARS = 80;
const MAX_ARGS = 16;
const MAX_CMD_CHARS = 200;

function shorten(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…(${text.length} chars)`;
}

/** argv as an audit line shows it: at most 16 items of at most 80 characters, and how many were left out. */
export function shortenArgv(argv: readonly string[]): string[] {
  const shown = argv.slice(0, MAX_ARGS).map((arg) => shorten(arg, MAX_ARG_CHARS));
  if (argv.length > MAX_ARGS) shown.push(`…(${argv.length - MAX_ARGS} more)`);
  return shown;
}

/** A shell line as an audit line shows it: its first 200 characters. */
export function shortenCmd(cmd: string): string {
  return shorten(cmd, MAX_CMD_CHARS);
}

/**
 * The audit fields of one exec: who ran what where, and how it ended. Never its environment
 * (values may be secrets) nor a byte of its output.
 */
export function execAuditFields({ session, cwd, exec }: ExecEvent): LogFields {
  return {
    session,
    exec: exec.id,
    ...(exec.argv !== undefined && { argv: shortenArgv(exec.argv) }),
    ...(exec.cmd !== undefined && { cmd: shortenCmd(exec.cmd) }),
    cwd,
    pty: exec.pty,
    pid: exec.pid,
    ...(exec.exit && {
      code: exec.exit.code,
      signal: exec.exit.signal,
      reason: exec.exit.reason,
      durationMs: exec.exit.durationMs,
      stdoutBytes: exec.bytes.stdout,
      stderrBytes: exec.bytes.stderr,
    }),
  };
}
