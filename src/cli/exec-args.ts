import { DEFAULT_RECONNECT_TIMEOUT_MS } from "../client/reconnect-options.ts";
import { MAX_TIMEOUT_MS } from "../protocol/index.ts";
import { parseFlags, type FlagSpecs } from "./parse-flags.ts";
import { parseWholeNumber } from "./parse-numbers.ts";
import { UsageError, quote } from "./usage-error.ts";
import type { ConnectContext } from "./connect-failure.ts";

/** The server `bunker exec` talks to when neither --url nor BUNKER_URL says otherwise. */
export const DEFAULT_URL = "ws://127.0.0.1:7681/ws";

/** How long `bunker exec` keeps trying to get back to its command after the connection drops: the library's default. */
export { DEFAULT_RECONNECT_TIMEOUT_MS };
/** Past the server's default --hold-output (60 s) output may already be lost; an hour is plenty. */
const MAX_RECONNECT_TIMEOUT_MS = 3_600_000;

/** Whether local stdin is forwarded. `auto`: when stdin is not a terminal, or with -t. */
export type StdinMode = "auto" | "always" | "never";

/**
 * Whether the command runs on a PTY. `auto` (-t, and bunker shell): unless local stdin is forwarded
 * and is not a terminal, since a PTY has no end of file to pass on (ssh and kubectl do the same);
 * `always` (-tt, as ssh spells it): whatever stdin is.
 */
export type TtyMode = "never" | "auto" | "always";

/** `bunker exec` and `bunker shell` settings. */
export interface ExecSettings {
  url: string;
  token: string | undefined;
  /** Where the token came from, for messages that tell the user what to check. */
  tokenSource: ConnectContext["tokenSource"];
  tty: TtyMode;
  stdin: StdinMode;
  env: Record<string, string>;
  cwd: string | undefined;
  /** A named session to run in; it outlives the command. Absent: a new session, ended afterwards. */
  name: string | undefined;
  timeoutMs: number | undefined;
  /** `--read-only`: the command may write nothing on the host (the exec's `readOnly`). */
  readOnly: boolean;
  /** `--no-network`: the command runs without the network even on a server that allows it. */
  noNetwork: boolean;
  /** How long to try to reconnect after the connection drops mid-command; 0: give up at once. */
  reconnectTimeoutMs: number;
  /** The command. Empty only for `bunker shell`, which then starts a login shell. */
  argv: string[];
}

const EXEC_FLAGS = {
  url: { type: "string" },
  token: { type: "string" },
  // Counted: -tt insists on a terminal.
  tty: { type: "boolean", short: "t", multiple: true },
  stdin: { type: "boolean", short: "i" },
  "no-stdin": { type: "boolean" },
  env: { type: "string", short: "e", multiple: true },
  cwd: { type: "string" },
  name: { type: "string" },
  "timeout-ms": { type: "string" },
  "read-only": { type: "boolean" },
  "no-network": { type: "boolean" },
  "reconnect-timeout-ms": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies FlagSpecs;

const VALUE_FLAGS = new Set(["--url", "--token", "--env", "-e", "--cwd", "--name", "--timeout-ms", "--reconnect-timeout-ms"]);

/**
 * Splits the arguments into bunker's flags and the command. The command starts after `--`, or at
 * the first argument that is not a flag (as with docker exec): everything from there on is the
 * command's, so `bunker exec ls -la` passes `-la` to ls.
 */
export function splitCommand(args: string[]): { flags: string[]; command: string[] } {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return { flags: args.slice(0, i), command: args.slice(i + 1) };
    if (!arg.startsWith("-") || arg === "-") return { flags: args.slice(0, i), command: args.slice(i) };
    // A value flag without `=` takes the next argument; so does a short group ending in e (`-te K=V`).
    if (VALUE_FLAGS.has(arg) || /^-[a-z]*e$/.test(arg)) i++;
  }
  return { flags: args, command: [] };
}

/**
 * Parses `bunker exec` (and, with `shell: true`, `bunker shell`) arguments: flags over environment
 * over defaults. Throws a UsageError on misuse.
 */
export function parseExecArgs(args: string[], env: Record<string, string | undefined>, options: { shell?: boolean } = {}): ExecSettings | "help" {
  const { flags: flagArgs, command } = splitCommand(args);
  const flags = parseFlags(flagArgs, EXEC_FLAGS) as {
    [Name in keyof typeof EXEC_FLAGS]?: (typeof EXEC_FLAGS)[Name] extends { multiple: true }
      ? (typeof EXEC_FLAGS)[Name]["type"] extends "boolean"
        ? number
        : string[]
      : (typeof EXEC_FLAGS)[Name]["type"] extends "boolean"
        ? boolean
        : string;
  };
  if (flags.help) return "help";
  if (flags.stdin && flags["no-stdin"]) throw new UsageError("-i/--stdin and --no-stdin contradict each other");
  if (command.length === 0 && !options.shell) throw new UsageError("exec needs a command: bunker exec [flags] -- command [args...]");

  const tokenSource = flags.token !== undefined ? "--token" : env["BUNKER_TOKEN"] !== undefined ? "BUNKER_TOKEN" : undefined;
  const token = flags.token ?? env["BUNKER_TOKEN"];
  // Named by where it came from: an empty BUNKER_TOKEN blamed on --token sent users to a flag they never passed.
  if (token !== undefined && token.length === 0) {
    throw new UsageError(tokenSource === "BUNKER_TOKEN" ? "BUNKER_TOKEN: the token is empty; unset it for a server run with --no-auth" : "--token: the token is empty");
  }
  const name = flags.name;
  if (name !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new UsageError(`--name: ${quote(name)} is not 1 to 64 of A-Z a-z 0-9 . _ -`);
  }
  const timeout = flags["timeout-ms"];
  const reconnect = flags["reconnect-timeout-ms"];
  const environment = parseEnvAssignments(flags.env ?? [], env);
  refuseReplacedBytes(command, environment);
  return {
    url: normalizeUrl(flags.url ?? env["BUNKER_URL"] ?? DEFAULT_URL, flags.url !== undefined ? "--url" : "BUNKER_URL"),
    token,
    tokenSource,
    tty: (flags.tty ?? 0) >= 2 ? "always" : options.shell === true || flags.tty === 1 ? "auto" : "never",
    stdin: flags.stdin ? "always" : flags["no-stdin"] ? "never" : "auto",
    env: environment,
    cwd: flags.cwd,
    name,
    timeoutMs: timeout === undefined ? undefined : parseWholeNumber("--timeout-ms", timeout, 0, MAX_TIMEOUT_MS),
    readOnly: flags["read-only"] === true,
    noNetwork: flags["no-network"] === true,
    reconnectTimeoutMs: reconnect === undefined ? DEFAULT_RECONNECT_TIMEOUT_MS : parseWholeNumber("--reconnect-timeout-ms", reconnect, 0, MAX_RECONNECT_TIMEOUT_MS),
    argv: command,
  };
}

/**
 * Accepts ws:// and wss:// URLs, and http(s):// ones (the address the server prints) as their
 * WebSocket equivalents; a URL with no path gets /ws.
 */
export function normalizeUrl(value: string, source: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${source}: ${quote(value)} is not a URL such as ${DEFAULT_URL}`);
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.protocol !== "ws:" && url.protocol !== "wss:") throw new UsageError(`${source}: ${quote(value)} is not a ws:// or wss:// URL`);
  if (url.hash) throw new UsageError(`${source}: ${quote(value)} has a #fragment; pass the token with --token or BUNKER_TOKEN`);
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/ws";
  return url.href;
}

/**
 * Refuses an argument or `-e` value holding U+FFFD: the runtime gives a byte that is not UTF-8 as
 * that character, and the protocol carries text, so `bunker exec -- rm $'caf\xe9'` would have
 * named another file, silently (found by a review). Such a name is reached inside the sandbox
 * instead: `sh -c 'rm caf?'`.
 */
function refuseReplacedBytes(command: readonly string[], environment: Record<string, string>): void {
  const index = command.findIndex((argument) => argument.includes("\uFFFD"));
  if (index >= 0) {
    throw new UsageError(`argument ${index + 1} (${quote(command[index]!)}) is not valid UTF-8, or holds U+FFFD: bunker sends text; reach such a name from inside, with a glob in sh -c`);
  }
  const name = Object.keys(environment).find((key) => key.includes("\uFFFD") || environment[key]!.includes("\uFFFD"));
  if (name !== undefined) throw new UsageError(`-e: ${quote(name)} is not valid UTF-8, or holds U+FFFD: bunker sends text`);
}

/** `-e K=V` sets K; `-e K` copies K from the local environment (skipped when unset there), as docker does. */
export function parseEnvAssignments(assignments: string[], localEnv: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const assignment of assignments) {
    const equals = assignment.indexOf("=");
    const key = equals < 0 ? assignment : assignment.slice(0, equals);
    if (key.length === 0 || key.includes("\0")) throw new UsageError(`-e: ${quote(assignment)} is not NAME=VALUE`);
    if (equals >= 0) result[key] = assignment.slice(equals + 1);
    else if (localEnv[key] !== undefined) result[key] = localEnv[key];
  }
  return result;
}

/** `bunker exec --help`. */
export const EXEC_HELP = `Usage: bunker exec [flags] [--] command [args...]

Runs one command on a bunker server and streams its stdout and stderr here as they arrive.
Exits with the command's exit code, or 128 + the signal number when a signal ended it.

  --url URL          the server (or BUNKER_URL; default ${DEFAULT_URL})
  --token TOKEN      the server's token (or BUNKER_TOKEN, which keeps it out of ps)
  -t, --tty          run on a terminal: raw local terminal, window size follows; only when
                     stdin is a terminal (else bunker says so and runs without one, so that
                     the end of a pipe or file reaches the command)
  -tt                a terminal even when stdin is not one (as ssh -tt)
  -i, --stdin        forward stdin even when it is a terminal (without -t)
  --no-stdin         never forward stdin; the command reads /dev/null
  -e, --env K=V      set a variable (repeatable); -e K copies K from here
  --cwd DIR          working directory, relative to the workspace
  --name NAME        run in the named session (it and its workspace outlive the command);
                     without it, a new session is made and ended afterwards
  --timeout-ms N     end the command after N ms
  --read-only        the command may read the workspace but write nothing (only its /tmp);
                     refused by a server without a sandbox
  --no-network       no network for the command, even on a server that allows it (a server
                     without a sandbox cannot: bunker says so on stderr)
  --reconnect-timeout-ms N
                     after the connection drops, keep trying to get back to the command
                     for N ms (default ${DEFAULT_RECONNECT_TIMEOUT_MS}; 0: give up at once)

Stdin is forwarded, end of file included, when it is not a terminal (a pipe or a file), and
always with -t or -i; otherwise the command's stdin is /dev/null. With -tt such a stdin is typed
into the terminal and its end types ^D, which only a program reading a line, at its start, takes
as the end: printf x | bunker exec -tt -- cat waits for more. Ctrl-C sends SIGINT to the
command (with -t it is typed into the terminal instead).

When the connection drops mid-command (not a server shutting down), bunker reconnects to the
session and carries on where the output stopped: no byte twice, none missing; stdin, signals and
resizes go on to the command, and the exit status is the command's. Piped stdin goes on exactly
too: the server says how much of it arrived, and bunker sends the rest again.

Exit codes of bunker itself: 2 for a misused flag, 255 when it could not run the command
(connection, token, refusal) or lost it (then the message names the session and exec left on
the server), 127 when the server could not start it.
`;

/** `bunker shell --help`. */
export const SHELL_HELP = `Usage: bunker shell [flags] [--] [command [args...]]

An interactive shell on a bunker server: bunker exec -t with a login shell (bash, else sh)
unless a command is given. Takes the flags of bunker exec. When stdin is not a terminal (a pipe
or a file), the shell runs without one, as over ssh: it reads its commands from stdin and ends
where stdin ends (bunker says so on stderr). -tt types stdin into a terminal all the same.
`;
