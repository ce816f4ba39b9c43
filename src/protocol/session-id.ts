/**
 * 16 random bytes in base64url: the id of a session a client creates itself (`?session=<id>&create=1`),
 * so that a load balancer hashing on the id routes its first connection where its resumes will go.
 * Web Crypto only, so browsers, Bun and Node share it.
 */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
