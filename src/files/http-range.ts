/** The bytes a `Range` header asks for: [start, end) of the file. */
export type RangeRequest = { kind: "whole" } | { kind: "part"; start: number; end: number } | { kind: "unsatisfiable" };

/**
 * Reads a single-range `Range: bytes=...` header (RFC 9110 14.2) against a file of `size` bytes.
 * Anything else (no header, other units, several ranges, nonsense) serves the whole file, which the
 * RFC allows; a range that starts past the end is unsatisfiable (416).
 */
export function parseRangeHeader(header: string | null, size: number): RangeRequest {
  const match = header === null ? null : /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return { kind: "whole" };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "whole" };
  if (first === "") {
    const suffix = Number(last);
    // An empty file has no last bytes to give (RFC 9110 14.1.2): it was a 206 of "bytes 0--1/0".
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "part", start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(first);
  if (start >= size) return { kind: "unsatisfiable" };
  const end = last === "" ? size : Math.min(Number(last) + 1, size);
  if (end <= start) return { kind: "whole" };
  return { kind: "part", start, end };
}
