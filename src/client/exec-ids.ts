import { encodeBase64Url } from "./base64.ts";

/**
 * File request ids are `file:<n>`. An `error` names only an id, so an exec of such an id would have
 * its errors taken for a file request's (or a file request's for its own): exec ids of this form are
 * refused, and the ids made below never take it (they hold no `:`).
 */
export const FILE_ID_PREFIX = "file:";

/**
 * Makes exec ids: a random prefix per session object and a counter. The prefix keeps the ids of two
 * clients of one resumed session apart, so neither gets `duplicate_id` for the other's exec.
 */
export function createExecIdGenerator(): () => string {
  const prefix = encodeBase64Url(crypto.getRandomValues(new Uint8Array(6)));
  let count = 0;
  return () => `${prefix}-${++count}`;
}

/** Throws a TypeError, before anything is sent, for an exec id that the client keeps for file requests. */
export function assertExecIdNotReserved(method: "exec" | "attach", id: string): void {
  if (id.startsWith(FILE_ID_PREFIX)) {
    throw new TypeError(`${method}: id: ids that start with "${FILE_ID_PREFIX}" are the client's file request ids (got ${JSON.stringify(id)})`);
  }
}
