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

/** What a request's preconditions say (RFC 9110 13.2.2): go on, answer 304, or answer 412. */
export type PreconditionOutcome = "proceed" | "not_modified" | "failed";

/** A date header as milliseconds, or undefined when it is not one (RFC 9110: such a header is ignored). */
function dateOf(header: string | null): number | undefined {
  if (header === null) return undefined;
  const time = Date.parse(header);
  return Number.isNaN(time) ? undefined : time;
}

/**
 * Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since in RFC 9110's order
 * (13.2.2) against the file as it is (`current`; undefined: no file there). If-Match compares
 * strongly (`*`: any file); If-None-Match weakly (`*`: any file), and a match is 304 for GET and HEAD,
 * 412 for a PUT; a date holds to the second of Last-Modified, and is looked at only without its tag
 * header. If-Range is the range's own (isRangeStillValid). A web editor's `PUT` with `If-Match` of
 * the tag it loaded must not overwrite what a command wrote meanwhile: it did, with 200 (a review).
 */
export function evaluatePreconditions(headers: Headers, current: FileValidators | undefined, method: string): PreconditionOutcome {
  const readOnly = method === "GET" || method === "HEAD";
  const modifiedAt = current && Date.parse(current.lastModified);
  const ifMatch = headers.get("if-match");
  if (ifMatch !== null) {
    const holds = current !== undefined && (ifMatch.trim() === "*" || listedTags(ifMatch).some((tag) => tag === current.entityTag));
    if (!holds) return "failed";
  } else {
    const since = dateOf(headers.get("if-unmodified-since"));
    if (since !== undefined && modifiedAt !== undefined && modifiedAt > since) return "failed";
  }
  const ifNoneMatch = headers.get("if-none-match");
  if (ifNoneMatch !== null) {
    if (current !== undefined && matchesIfNoneMatch(ifNoneMatch, current.entityTag)) return readOnly ? "not_modified" : "failed";
  } else if (readOnly) {
    const since = dateOf(headers.get("if-modified-since"));
    if (since !== undefined && modifiedAt !== undefined && modifiedAt <= since) return "not_modified";
  }
  return "proceed";
}
