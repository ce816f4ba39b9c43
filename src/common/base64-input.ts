/**
 * Decodes a client's base64, leniently as before (characters outside the alphabet are skipped),
 * except for padding before the end: Buffer.from stops at the first `=`, so chunks joined after
 * encoding ("YQ==YQ==") lost every byte after the first silently (found by a review). Returns the
 * bytes, or what is wrong with `text` (for a `bad_message` naming `field`).
 */
export function decodeBase64Input(text: string, field: string): { ok: true; bytes: Buffer } | { ok: false; problem: string } {
  const padding = text.indexOf("=");
  if (padding >= 0 && hasAlphabetAfter(text, padding + 1)) {
    return { ok: false, problem: `${field}: base64 padding ('=' at ${padding}) comes before the end; decoding would stop there: encode the bytes whole, or send each encoded chunk in a message of its own` };
  }
  return { ok: true, bytes: Buffer.from(text, "base64") };
}

/** A client's `data` as its `encoding` says: UTF-8 text as it is, base64 as decodeBase64Input reads it. */
export function decodeDataInput(text: string, encoding: "utf8" | "base64" | undefined, field: string): ReturnType<typeof decodeBase64Input> {
  return encoding === "base64" ? decodeBase64Input(text, field) : { ok: true, bytes: Buffer.from(text, "utf8") };
}

/** Whether a base64 (or base64url) character comes at `from` or after. */
function hasAlphabetAfter(text: string, from: number): boolean {
  for (let index = from; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const letter = (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
    const digit = code >= 0x30 && code <= 0x39;
    if (letter || digit || code === 0x2b || code === 0x2f || code === 0x2d || code === 0x5f) return true;
  }
  return false;
}
