import { bufferBase64, nativeBase64, portableBase64, type Base64Codec } from "./base64-codecs.ts";

/**
 * The fastest codec this runtime has: the ES2025 one (Bun, recent browsers), else Buffer (Node 20),
 * else atob and btoa (older browsers).
 */
export const BASE64: Base64Codec = nativeBase64 ?? bufferBase64 ?? portableBase64;

/** Standard padded base64 of the bytes. */
export function encodeBase64(bytes: Uint8Array): string {
  return BASE64.encode(bytes);
}

/** The bytes of a base64 string; undefined when it is not base64. Never throws. */
export function decodeBase64(text: string): Uint8Array | undefined {
  return BASE64.decode(text);
}

/** Unpadded base64url, for ids. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
