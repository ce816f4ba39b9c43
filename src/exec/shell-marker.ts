/** Finding a command's end marker in a stream that arrives in chunks (see shell-script.ts for what is printed). */

const EMPTY = new Uint8Array(0);

/** What one chunk held: bytes that are surely the command's, and where the marker ended, if it did. */
export interface MarkerScan {
  /** The command's bytes, in order (possibly including bytes held back from earlier chunks). */
  before: Uint8Array;
  /** How many bytes of the chunk run up to the end of the marker; undefined when it has not ended yet. */
  consumed: number | undefined;
}

/** The length of the longest end of `data` that is a proper start of `marker`. */
function partialMarkerAtEnd(data: Uint8Array, marker: Uint8Array): number {
  for (let length = Math.min(marker.length - 1, data.length); length > 0; length--) {
    let matches = true;
    for (let index = 0; index < length && matches; index++) matches = data[data.length - length + index] === marker[index];
    if (matches) return length;
  }
  return 0;
}

/**
 * Splits a stream at the first occurrence of `marker`. Bytes that might be the beginning of a marker
 * split across chunks are held back until the next chunk tells.
 */
export class MarkerScanner {
  readonly #marker: Uint8Array;
  #held: Uint8Array = EMPTY;

  constructor(marker: string) {
    this.#marker = new TextEncoder().encode(marker);
  }

  feed(chunk: Uint8Array): MarkerScan {
    const held = this.#held;
    const data = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
    const at = Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(this.#marker);
    if (at >= 0) {
      this.#held = EMPTY;
      // The held bytes are a proper start of the marker, so the marker ends inside this chunk.
      return { before: data.subarray(0, at), consumed: at + this.#marker.length - held.length };
    }
    const keep = partialMarkerAtEnd(data, this.#marker);
    this.#held = data.slice(data.length - keep);
    return { before: data.subarray(0, data.length - keep), consumed: undefined };
  }

  /** Bytes held back when the stream ended without a marker: they were the command's after all. */
  flush(): Uint8Array {
    const held = this.#held;
    this.#held = EMPTY;
    return held;
  }
}

/** What the shell reported after the marker on stdout. */
export interface ShellTrailer {
  status: number;
  cwd: string;
}

/** Longer than any status and path: anything past this is not our trailer. */
const MAX_TRAILER_BYTES = 64 * 1024;

/** Reads `status NUL cwd NUL`, which follows the marker on stdout and may itself arrive in pieces. */
export class TrailerReader {
  readonly #parts: Uint8Array[] = [];
  #length = 0;
  #nuls = 0;

  /**
   * Takes bytes from `chunk` up to the end of the trailer. `consumed` counts them; `trailer` is set
   * once it is complete. Throws when what follows the marker is not a trailer.
   */
  feed(chunk: Uint8Array): { consumed: number; trailer: ShellTrailer | undefined } {
    let end = -1;
    for (let index = 0; index < chunk.length; index++) {
      if (chunk[index] === 0 && ++this.#nuls === 2) {
        end = index + 1;
        break;
      }
    }
    const taken = chunk.subarray(0, end === -1 ? chunk.length : end);
    this.#parts.push(taken);
    this.#length += taken.length;
    if (this.#length > MAX_TRAILER_BYTES) throw new Error(`the shell's report after a command is longer than ${MAX_TRAILER_BYTES} bytes`);
    if (end === -1) return { consumed: chunk.length, trailer: undefined };
    const [statusText, cwd] = Buffer.concat(this.#parts).toString("utf8").split("\0");
    const status = Number(statusText);
    if (!/^\d{1,3}$/.test(statusText ?? "") || status > 255) throw new Error(`the shell reported ${JSON.stringify(statusText)} as an exit status`);
    return { consumed: end, trailer: { status, cwd: cwd ?? "" } };
  }
}
