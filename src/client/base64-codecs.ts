/**
 * The ways a runtime can turn bytes into base64 and back, behind one contract. Every stdin write,
 * upload chunk and base64 reply goes through one of them, so the fastest one present is used
 * (base64.ts picks it): Node 20 has neither the ES2025 codec nor a fast btoa, and its btoa path ran
 * stdin and uploads at about 9 MB/s where Buffer makes them run at the socket's speed.
 */

/** Standard padded base64 of bytes, and back. */
export interface Base64Codec {
  readonly name: "native" | "buffer" | "portable";
  encode(bytes: Uint8Array): string;
  /** The bytes of a base64 string, or undefined when it is not base64 (as `atob` judges). Never throws. */
  decode(text: string): Uint8Array | undefined;
}

/** atob and btoa: browsers, Bun and Node >= 16 all have them. Slow (a string of one char per byte). */
export const portableBase64: Base64Codec = {
  name: "portable",
  encode(bytes) {
    const piece = 0x8000;
    let binary = "";
    for (let start = 0; start < bytes.byteLength; start += piece) {
      binary += String.fromCharCode(...bytes.subarray(start, start + piece));
    }
    return btoa(binary);
  },
  decode(text) {
    let binary: string;
    try {
      binary = atob(text);
    } catch {
      return undefined;
    }
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  },
};

/** The ES2025 codec, Uint8Array.prototype.toBase64 and Uint8Array.fromBase64: Bun, recent browsers. */
interface NativeBase64 {
  fromBase64?: (text: string) => Uint8Array;
  prototype: { toBase64?: (this: Uint8Array) => string };
}
const native = Uint8Array as unknown as NativeBase64;
const nativeFrom = native.fromBase64;
const nativeTo = native.prototype.toBase64;

/** The ES2025 codec, where the runtime has it. */
export const nativeBase64: Base64Codec | undefined =
  nativeFrom && nativeTo
    ? {
        name: "native",
        encode: (bytes) => nativeTo.call(bytes),
        decode(text) {
          try {
            return nativeFrom(text);
          } catch {
            return undefined;
          }
        },
      }
    : undefined;

/** The part of Node's (and Bun's) Buffer used here; browsers have none, and this file imports none. */
interface BufferClass {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: "base64"): string };
  from(text: string, encoding: "base64"): Uint8Array;
}
const NodeBuffer = (globalThis as { Buffer?: BufferClass }).Buffer;

/** Node's Buffer, where the runtime has it: Node (the only path there that is fast), Bun. */
export const bufferBase64: Base64Codec | undefined = NodeBuffer
  ? {
      name: "buffer",
      // A view of the same memory: no copy, and only the view's bytes (its offset counts).
      encode: (bytes) => NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
      decode(text) {
        // Buffer never refuses: it skips what is not base64 and takes base64url's `-` and `_`. Bytes
        // of the length the text promises, from a text without those two, were all base64; anything
        // else (whitespace, which atob allows, included) goes to atob for its exact verdict.
        const decoded = NodeBuffer.from(text, "base64");
        if (decoded.byteLength !== promisedBytes(text) || text.includes("-") || text.includes("_")) return portableBase64.decode(text);
        // A plain Uint8Array, as the other codecs give: a Buffer's `slice` shares memory, and a
        // small one lies in a pool that its `.buffer` would hand to whoever reads it.
        const ownsBuffer = decoded.byteOffset === 0 && decoded.buffer.byteLength === decoded.byteLength;
        return ownsBuffer ? new Uint8Array(decoded.buffer, 0, decoded.byteLength) : new Uint8Array(decoded);
      },
    }
  : undefined;

/** How many bytes a base64 text of this length and padding holds; -1 for a length none can have. */
function promisedBytes(text: string): number {
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  if (padding > 0 && text.length % 4 !== 0) return -1;
  const digits = text.length - padding;
  if (digits % 4 === 1) return -1;
  return Math.floor((digits * 3) / 4);
}
