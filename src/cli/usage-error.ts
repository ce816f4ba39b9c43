/** A mistake in how bunker was invoked: main prints the one line and exits 2, with no stack trace. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Quotes a value the way error lines show it. */
export function quote(value: string): string {
  return JSON.stringify(value);
}
