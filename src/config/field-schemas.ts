import * as v from "valibot";
import { parseRunAs } from "../sandbox/run-as.ts";

/*
 * The schema pieces of configuration fields. Each issue message is the rest of a sentence that
 * starts with the value: `--port: "70000" must be between 0 and 65535`, or for a file,
 * `bunker.json: port: 70000 must be between 0 and 65535`.
 */

/** A whole number from `min` to `max`. Every message says the range, so that the error alone tells what to write. */
export function wholeNumber(min: number, max: number) {
  const range = `must be between ${min} and ${max}`;
  const notWhole = `is not a whole number between ${min} and ${max}`;
  return v.pipe(v.number(notWhole), v.safeInteger(notWhole), v.minValue(min, range), v.maxValue(max, range));
}

/** One of a fixed set of words. */
export function choice<const T extends readonly [string, ...string[]]>(choices: T) {
  return v.picklist(choices, `is not one of ${choices.join(", ")}`);
}

export function flag() {
  return v.boolean("is not true or false");
}

/** A non-empty string. */
export function text() {
  return v.pipe(v.string("is not a string"), v.minLength(1, "is empty"));
}

/** Several non-empty strings (a repeatable flag; a comma-separated environment variable). */
export function textList() {
  return v.array(text(), "is not a list of strings");
}

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
/** Durations end where setTimeout's delay does. */
const MAX_DURATION_MS = 2_147_483_647;

/** Milliseconds of a duration such as `500ms`, `30s`, `10m` or `2h` (a bare number is seconds); undefined when malformed. */
export function durationMs(value: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * DURATION_UNITS_MS[(match[2] ?? "s") as keyof typeof DURATION_UNITS_MS];
}

/** A duration, kept as written; `durationMs` reads it. */
export function duration() {
  return v.pipe(
    v.string("is not a duration such as 30s, 10m or 2h"),
    v.check((value) => durationMs(value) !== undefined, "is not a duration such as 30s, 10m or 2h"),
    v.check((value) => durationMs(value)! <= MAX_DURATION_MS, "is longer than about 24 days"),
  );
}

/** A duration of whole seconds from `minSeconds` to `maxSeconds`, kept as written. */
export function secondsDuration(minSeconds: number, maxSeconds: number) {
  return v.pipe(
    duration(),
    v.check((value) => durationMs(value)! % 1000 === 0, "is not a whole number of seconds"),
    v.check((value) => durationMs(value)! >= minSeconds * 1000 && durationMs(value)! <= maxSeconds * 1000, `is not from ${minSeconds}s to ${maxSeconds}s`),
  );
}

/** `UID` or `UID:GID`. */
export function uidGid() {
  return v.pipe(v.string("is not UID or UID:GID"), v.check((value) => parseRunAs(value) !== undefined, "is not UID or UID:GID"));
}

/** What `bunker config` prints in place of a secret. As a token it is refused once it would be used (serve-settings.ts). */
export const REDACTED = "<redacted>";

/**
 * A token: long enough that guessing it is hopeless, and without whitespace or control characters,
 * which no client can present (the Authorization header is trimmed, a subprotocol cannot hold them):
 * a token read from a file with its trailing newline started a server nobody could log in to.
 */
export function token() {
  return v.pipe(
    v.string("is not a string"),
    v.check((value) => value === REDACTED || value.length >= 16, "is too short to guess-proof; use at least 16"),
    v.check((value) => !/[\s\x00-\x1f\x7f]/.test(value), "holds whitespace or a control character (a trailing newline from a file, say), which no client can present; remove it"),
  );
}

/** The characters a WebSocket subprotocol may hold (RFC 7230 tchar): a browser presents the token as one. */
const SUBPROTOCOL_CHARACTERS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether a browser (the terminal page) can present this token, which it can only send as a subprotocol. */
export function browsersCanPresent(token: string): boolean {
  return SUBPROTOCOL_CHARACTERS.test(token);
}
