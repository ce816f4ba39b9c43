import { UsageError, quote } from "./usage-error.ts";

/** Parses a flag's value as a whole number within bounds, or throws a UsageError that quotes it. */
export function parseWholeNumber(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag}: ${quote(value)} is not a whole number`);
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
