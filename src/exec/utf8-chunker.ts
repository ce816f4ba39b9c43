/** Text decoded from a run of bytes, and how many raw bytes it covers (so that offsets stay byte-exact). */
export interface DecodedChunk {
  text: string;
  byteLength: number;
}

/** How many bytes the UTF-8 sequence led by `byte` has; 0 for a continuation or invalid lead byte. */
export function utf8SequenceLength(byte: number): number {
  if (byte < 0x80) return 1;
  if (byte >= 0xc2 && byte <= 0xdf) return 2;
  if (byte >= 0xe0 && byte <= 0xef) return 3;
  if (byte >= 0xf0 && byte <= 0xf4) return 4;
  return 0;
}

/**
 * Where the bytes stop being complete: the index of a trailing lead byte whose sequence is cut off,
 * or `bytes.length` when nothing is cut. Only the last three bytes can belong to a cut sequence.
 */
export function completeUtf8Length(bytes: Uint8Array): number {
  const end = bytes.length;
  for (let back = 1; back <= Math.min(3, end); back++) {
    const byte = bytes[end - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = utf8SequenceLength(byte);
    return needed > back ? end - back : end;
  }
  return end;
}

// ignoreBOM: a byte-order mark is text like any other (by default a decode drops one at its start).
const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Decodes a byte stream to text chunk by chunk without splitting a multi-byte character: an
 * incomplete tail is held back and prefixed to the next chunk. Invalid bytes become U+FFFD.
 */
export function createUtf8Chunker(): { push(bytes: Uint8Array): DecodedChunk; flush(): DecodedChunk } {
  let pending: Uint8Array | null = null;
  return {
    push(bytes) {
      const joined: Uint8Array = pending ? concat(pending, bytes) : bytes;
      const cut = completeUtf8Length(joined);
      pending = cut < joined.length ? joined.slice(cut) : null;
      return { text: decoder.decode(joined.subarray(0, cut)), byteLength: cut };
    },
    flush() {
      const rest = pending;
      pending = null;
      return rest ? { text: decoder.decode(rest), byteLength: rest.length } : { text: "", byteLength: 0 };
    },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}
