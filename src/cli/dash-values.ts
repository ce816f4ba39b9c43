import type { ParseArgsOptionsConfig } from "node:util";
import { UsageError, quote } from "./usage-error.ts";

/** Whether `arg` is a flag of this command (`--port`, `--port=1`, `-h`, a group such as `-ti`). */
function isKnownFlag(arg: string, options: ParseArgsOptionsConfig): boolean {
  if (arg.startsWith("--")) return Object.hasOwn(options, arg.slice(2).split("=")[0]!);
  const shorts = new Set(Object.values(options).map((option) => option.short));
  return arg.length > 1 && shorts.has(arg[1]!);
}

/**
 * The error for a value flag followed by one of the command's flags. Only the flag's own name is
 * quoted: what follows it (`--token=<secret>`, `-h<secret>` when the value itself starts with a
 * dash) may be a token or an env value, and the line goes to stderr and from there to logs.
 */
function forgottenValue(arg: string, next: string, long: boolean): UsageError {
  const name = next.startsWith("--") ? next.split("=")[0]! : next.slice(0, 2);
  const join = (value: string) => (long ? `${arg}=${value}` : `${arg}${value}`);
  if (name === next) return new UsageError(`${arg} needs a value, but ${quote(next)} follows it; write ${join(next)} if that is the value`);
  return new UsageError(`${arg} needs a value, but ${quote(`${name}…`)} follows it (the rest not shown); write ${join(`${name}…`)} as one argument if that is the value`);
}

/**
 * Gives a value flag the next argument even when it starts with a dash (`--port -1`, a token that
 * starts with `-`), as `--port=-1`. node:util parseArgs refuses those as "ambiguous" without
 * quoting the value, which left `--port -1` with an error that said nothing of -1 or of the range.
 * A following argument that is itself one of the command's flags (`--host --port 80`) means the
 * value was forgotten: that is a UsageError naming both. Arguments after `--` are left alone.
 */
export function attachDashValues(args: readonly string[], options: ParseArgsOptionsConfig): string[] {
  const result: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return [...result, ...args.slice(i)];
    const next = args[i + 1];
    const long = arg.startsWith("--") && !arg.includes("=") ? options[arg.slice(2)] : undefined;
    const short = /^-[^-]$/.test(arg) ? Object.entries(options).find(([, option]) => option.short === arg[1]) : undefined;
    const takesValue = (long ?? short?.[1])?.type === "string";
    if (!takesValue || next === undefined || !next.startsWith("-") || next === "-" || next === "--") {
      result.push(arg);
      continue;
    }
    if (isKnownFlag(next, options)) throw forgottenValue(arg, next, long !== undefined);
    // `-e-1` is how parseArgs takes a short flag's value that starts with a dash.
    result.push(long ? `${arg}=${next}` : `${arg}${next}`);
    i++;
  }
  return result;
}
