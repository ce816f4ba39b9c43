import type { BigIntStats } from "node:fs";

/** The validators of one version of a file (RFC 9110 8.8): a strong `ETag` and `Last-Modified`. */
export interface FileValidators {
  /** Quotes included, as the header carries it. */
  readonly entityTag: string;
  /** An IMF-fixdate. */
  readonly lastModified: string;
}

/**
 * Validators from an fstat, without reading a byte. The tag is strong: the server writes a file
 * through a new inode (rename), an append changes the size, and a rewrite in place changes the
 * mtime. Only an in-place rewrite to the same size within one tick of the kernel's timestamp clock
 * keeps the tag; docs/PROTOCOL.md (HTTP) says so.
 */
export function fileValidatorsOf(stats: BigIntStats): FileValidators {
  const tag = [stats.size, stats.mtimeNs, stats.ino].map((value) => value.toString(16)).join("-");
  return { entityTag: `"${tag}"`, lastModified: new Date(Number(stats.mtimeNs / 1_000_000n)).toUTCString() };
}

/** The entity tags of an `If-None-Match` or `If-Match` list; a comma may sit inside a tag's quotes. */
function listedTags(header: string): string[] {
  return [...header.matchAll(/(?:W\/)?"[^"]*"/g)].map((match) => match[0]);
}

/**
 * Whether `If-None-Match` names this version, so that a GET or HEAD gets 304: `*` (the file
 * exists), or a listed tag equal by the weak comparison (RFC 9110 13.1.2), which ignores `W/`.
 */
export function matchesIfNoneMatch(header: string | null, entityTag: string): boolean {
  if (header === null) return false;
  if (header.trim() === "*") return true;
  return listedTags(header).some((tag) => tag.replace(/^W\//, "") === entityTag);
}

/**
 * Whether a `Range` may be served under `If-Range` (RFC 9110 13.1.5): there is none, or it is this
 * version's tag exactly (the strong comparison). A date never holds: a second is too coarse to tell
 * two versions apart, so it is not a strong validator here, and the whole file is the safe answer.
 */
export function isRangeStillValid(header: string | null, entityTag: string): boolean {
  return header === null || header.trim() === entityTag;
}
