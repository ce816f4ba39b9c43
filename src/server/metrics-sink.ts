/** Every serialised `error` starts so; replies are counted by code without parsing them again. */
const ERROR_PREFIX = '{"type":"error"';

/** If `text` is an `error` message, its code (for the metrics of errors sent); undefined otherwise. */
export function errorCodeOf(text: string): string | undefined {
  // `,"code":"` cannot occur inside the escaped id that may come before it.
  if (!text.startsWith(ERROR_PREFIX)) return undefined;
  return /,"code":"([a-z_]+)"/.exec(text)?.[1] ?? "other";
}
