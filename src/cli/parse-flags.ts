import { UsageError, quote } from "./usage-error.ts";

/**
 * Command-line flags, parsed here rather than by node:util's parseArgs, which STYLE.md names: importing
 * node:util cost the compiled binary ~3 ms of its ~17 ms to "listening" (measured side by side), and
 * serve needs nothing more than this. It reads flags as parseArgs does in strict mode without
 * positionals, with its messages for the same mistakes, and one thing more: a value flag takes the
 * next argument even when it starts with a dash (`--port -1`, a token that starts with `-`), which
 * parseArgs refused as "ambiguous" without quoting it.
 */

/** One flag: a value (`string`) or a switch (`boolean`), with an optional one-letter alias. */
export interface FlagSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  /**
   * A flag that may be given more than once: a value flag's values are collected in order, a
   * switch's times are counted (`-tt`, ssh's way of insisting).
   */
  readonly multiple?: boolean;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** What was given, by flag name without dashes: a string, `true`, the strings of a `multiple` value flag, or how many times a `multiple` switch came. */
export type FlagValues = Record<string, string | boolean | number | string[] | undefined>;

/** Whether `arg` is one of the command's own flags (`--port`, `--port=1`, `-h`, a group such as `-ti`). */
function isOwnFlag(arg: string, specs: FlagSpecs): boolean {
  if (arg.startsWith("--")) return Object.hasOwn(specs, arg.slice(2).split("=")[0]!);
  return arg.length > 1 && arg.startsWith("-") && Object.values(specs).some((spec) => spec.short === arg[1]);
}

/**
 * A value flag followed by one of the command's flags: its value was forgotten. Only the flag's own
 * name is quoted: what follows it (`--token=<secret>`, `-h<secret>` when the value itself starts
 * with a dash) may be a token or an env value, and the line goes to stderr and from there to logs.
 */
function forgottenValue(flag: string, next: string, long: boolean): UsageError {
  const name = next.startsWith("--") ? next.split("=")[0]! : next.slice(0, 2);
  const join = (value: string) => (long ? `${flag}=${value}` : `${flag}${value}`);
  if (name === next) return new UsageError(`${flag} needs a value, but ${quote(next)} follows it; write ${join(next)} if that is the value`);
  return new UsageError(`${flag} needs a value, but ${quote(`${name}…`)} follows it (the rest not shown); write ${join(`${name}…`)} as one argument if that is the value`);
}

function unexpected(arg: string): UsageError {
  return new UsageError(`Unexpected argument '${arg}'. This command does not take positional arguments`);
}

/** Parses `args` against `specs`; throws a UsageError of one line on misuse. Arguments after `--` are refused as positionals. */
export function parseFlags(args: readonly string[], specs: FlagSpecs): FlagValues {
  const values: FlagValues = {};
  const set = (name: string, spec: FlagSpec, value: string) => {
    if (!spec.multiple) values[name] = value;
    else ((values[name] ??= []) as string[]).push(value);
  };
  const turnOn = (name: string, spec: FlagSpec) => {
    values[name] = spec.multiple ? ((values[name] as number | undefined) ?? 0) + 1 : true;
  };
  /** The argument after `flag` as its value, unless there is none or it is one of the command's flags. */
  const valueAfter = (index: number, flag: string, missing: string, long: boolean): string => {
    const next = args[index + 1];
    if (next === undefined || next === "--") throw new UsageError(`Option '${missing} <value>' argument missing`);
    if (isOwnFlag(next, specs)) throw forgottenValue(flag, next, long);
    return next;
  };
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === "--") {
      if (index + 1 < args.length) throw unexpected(args[index + 1]!);
      break;
    }
    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      const name = equals < 0 ? arg.slice(2) : arg.slice(2, equals);
      const spec = Object.hasOwn(specs, name) ? specs[name]! : undefined;
      if (!spec) throw new UsageError(`Unknown option '--${name}'`);
      if (spec.type === "boolean") {
        if (equals >= 0) throw new UsageError(`Option '--${name}' does not take an argument`);
        turnOn(name, spec);
      } else if (equals >= 0) {
        set(name, spec, arg.slice(equals + 1));
      } else {
        set(name, spec, valueAfter(index, arg, `--${name}`, true));
        index++;
      }
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") throw unexpected(arg);
    // One or more one-letter flags: switches, then at most one value flag, whose value is the rest
    // of the argument (`-eK=V`) or the next one (`-te K=V`).
    for (let at = 1; at < arg.length; at++) {
      const letter = arg[at]!;
      const name = Object.keys(specs).find((key) => specs[key]!.short === letter);
      if (name === undefined) throw new UsageError(`Unknown option '-${letter}'`);
      const spec = specs[name]!;
      if (spec.type === "boolean") {
        turnOn(name, spec);
        continue;
      }
      const rest = arg.slice(at + 1);
      if (rest !== "") set(name, spec, rest);
      else {
        set(name, spec, valueAfter(index, `-${letter}`, `-${letter}, --${name}`, false));
        index++;
      }
      break;
    }
  }
  return values;
}
