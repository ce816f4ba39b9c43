import { encodeBase64Url } from "./base64.ts";

/**
 * Makes exec ids: a random prefix per session object and a counter. The prefix keeps the ids of two
 * clients of one resumed session apart, so neither gets `duplicate_id` for the other's exec.
 */
export function createExecIdGenerator(): () => string {
  const prefix = encodeBase64Url(crypto.getRandomValues(new Uint8Array(6)));
  let count = 0;
  return () => `${prefix}-${++count}`;
}
