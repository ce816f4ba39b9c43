/**
 * How deep a client's JSON may nest arrays and objects. No message of the protocol goes past 3;
 * the rest is room for fields of later versions.
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * Whether a JSON text nests deeper than `maxDepth`, checked before JSON.parse: JSC parses deep
 * nesting about ten times slower per byte than flat JSON (a 1 MiB frame of brackets costs some
 * 150 ms), so one connection could otherwise keep the event loop busy for every session. Stops at
 * the first level too deep; string contents are skipped with indexOf. Malformed text is left to
 * JSON.parse to reject.
 */
export function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x22) {
      let end = index;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return false;
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      index = end;
    } else if (code === 0x5b || code === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return false;
}
