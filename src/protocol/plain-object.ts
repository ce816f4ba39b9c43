import * as v from "valibot";

/** An object and not an array: JSON's `{...}`. */
export function isPlainObject(input: unknown): input is Record<string, unknown> {
  return typeof input === "object" && input !== null && !Array.isArray(input);
}

/**
 * valibot's object schema, refusing an array: v.object takes `[...]` for an object whose keys "0",
 * "1", ... it ignores, so `rlimits: ["cpuSeconds", 5]` ran with no limit at all, `offsets: [5]`
 * replayed from offset 0 and `pty: [80, 24]` was refused as "pty.cols: is required" (found by a
 * review). `message` says what was expected.
 */
export function plainObject<const TEntries extends v.ObjectEntries>(entries: TEntries, message: string) {
  return v.pipe(v.custom<Record<string, unknown>>(isPlainObject, message), v.object(entries));
}
