/**
 * How deep a client's JSON may nest arrays and objects. No message of the protocol goes past 3;
 * the rest is room for fields of later versions.
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * How many values a client's JSON may hold, counted as the separators and containers outside
 * strings (`,` `:` `[` `{`). The largest message of the protocol, an exec with 4096 argv items and
 * 1024 env entries, holds ~6,200; the rest is room for fields of later versions.
 */
export const MAX_JSON_VALUES = 16_384;

/**
 * What is wrong with the shape of a JSON text, checked before JSON.parse, or undefined. JSC parses
 * deep nesting about ten times slower per byte than flat JSON (a 1 MiB frame of brackets costs some
 * 150 ms), and a frame of many small values is slow too (`[{},{},...]` or 70,000 keys in 1 MiB:
 * ~35 ms, under the message rate limit 150 such frames took 3.2 s, found by a review), so one
 * connection could otherwise keep the event loop busy for every session. Stops at the first excess;
 * string contents are skipped with indexOf. Malformed text is left to JSON.parse to reject.
 */
export function jsonShapeProblem(text: string): string | undefined {
  let depth = 0;
  let values = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x22) {
      let end = index;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return undefined;
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      index = end;
    } else if (code === 0x5b || code === 0x7b) {
      if (++depth > MAX_NESTING_DEPTH) return `the frame nests arrays and objects deeper than ${MAX_NESTING_DEPTH} levels`;
      if (++values > MAX_JSON_VALUES) return tooManyValues();
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    } else if (code === 0x2c || code === 0x3a) {
      if (++values > MAX_JSON_VALUES) return tooManyValues();
    }
  }
  return undefined;
}

function tooManyValues(): string {
  return `the frame holds more than ${MAX_JSON_VALUES} values (counting its commas, colons, arrays and objects)`;
}
