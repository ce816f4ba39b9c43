/**
 * Random names and secrets from the Web Crypto global rather than node:crypto: loading node:crypto
 * measured about 5 ms of the compiled binary's start to "listening" (Bun builds that module when it
 * is first imported), and every random value the server needs is just bytes from the system CSPRNG.
 */

/** `byteCount` random bytes, as `encoding` (hex for file names, base64url for ids and secrets). */
export function randomText(byteCount: number, encoding: "hex" | "base64url"): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(byteCount))).toString(encoding);
}
