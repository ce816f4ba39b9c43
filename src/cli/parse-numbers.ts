import { UsageError, quote } from "./usage-error.ts";

/** Parses a flag's value as a whole number within bounds, or throws a UsageError that quotes it. */
export function parseWholeNumber(flag: string, value: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(value)) throw new UsageError(`${flag}: ${quote(value)} is not a whole number between ${min} and ${max}`);
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`${flag}: ${quote(value)} must be between ${min} and ${max}`);
  }
  return number;
}

/** Parses one of a fixed set of words, or throws a UsageError that quotes the value. */
export function parseChoice<const T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag}: ${quote(value)} is not one of ${choices.join(", ")}`);
}

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Parses a duration such as `500ms`, `30s`, `10m` or `2h` (a bare number is seconds). Throws a UsageError that quotes it. */
export function parseDurationMs(flag: string, value: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (!match) throw new UsageError(`${flag}: ${quote(value)} is not a duration such as 30s, 10m or 2h`);
  const ms = Number(match[1]) * DURATION_UNITS_MS[(match[2] ?? "s") as keyof typeof DURATION_UNITS_MS];
  if (!Number.isSafeInteger(ms) || ms > 2_147_483_647) throw new UsageError(`${flag}: ${quote(value)} is longer than about 24 days`);
  return ms;
}
