import type { FileSink } from "bun";
import { MAX_PENDING_STDIN_BYTES } from "../protocol/limits.ts";

/** Told how many bytes of stdin the command has taken in all, after each write that moved it. */
export type StdinTaken = (takenBytes: number) => void;

/** Writes a client's stdin to a child in order, with a bound on what may wait. */
export interface StdinWriter {
  /** Queues bytes; false (and nothing queued) when the bound would be passed. */
  write(bytes: Uint8Array): boolean;
  /** Closes the child's stdin after what is queued. */
  end(): void;
}

/** A terminal's stdin writer also needs the terminal's `drain` event. */
export interface TerminalStdinWriter extends StdinWriter {
  /** Call from TerminalOptions.drain: every byte written so far has reached the terminal. */
  drained(): void;
}

/** Whether `bytes` more may wait for a command that has `accepted` bytes and taken `taken`. */
function fitsPending(accepted: number, taken: number, bytes: number): boolean {
  return accepted - taken + bytes <= MAX_PENDING_STDIN_BYTES;
}

/** Writes below this size that arrive while the pipe is busy are copied together into one chunk. */
const COALESCE_BELOW_BYTES = 16 * 1024;
/** The sizes of such a chunk: it starts small and doubles up to the largest. */
const MIN_CHUNK_BYTES = 1024;
const CHUNK_BYTES = 64 * 1024;

/**
 * Every write is awaited, so that a failure (EPIPE once the child has exited) is caught here and
 * never becomes an unhandled rejection; and the bytes still waiting are counted, so that a client
 * cannot grow the server's memory by writing to a command that never reads.
 *
 * What waits costs its bytes, not a buffer, a promise and a closure per message: a queue of one
 * write each measured ~360 bytes of heap per one-byte `stdin` message, so that the 8 MiB bound let
 * one exec pin ~3 GB (found by a review). One pump writes the queue in order; small writes that
 * arrive while it is busy are copied into shared chunks of up to 64 KiB.
 *
 * `onEnded` runs once, after the sink has ended (for a pipe of the server's own, os-pipe.ts, which
 * the sink does not close).
 */
export function createStdinWriter(sink: FileSink, onTaken?: StdinTaken, onEnded?: () => void): StdinWriter {
  let broken = false;
  // Bytes accepted from clients; bytes the pipe took, and bytes lost once the command closed its
  // stdin: the difference waits, against the bound.
  let accepted = 0;
  let taken = 0;
  const queue: { bytes: Uint8Array; used: number }[] = [];
  /** The last chunk of the queue while small writes may still be copied into it. */
  let open: { bytes: Uint8Array; used: number } | undefined;
  let pumping = false;
  let ending = false;

  const enqueue = (bytes: Uint8Array) => {
    if (!pumping || bytes.byteLength >= COALESCE_BELOW_BYTES) {
      open = undefined;
      queue.push({ bytes, used: bytes.byteLength });
      return;
    }
    if (open && open.bytes.byteLength - open.used < bytes.byteLength && open.used + bytes.byteLength <= CHUNK_BYTES) {
      // Grown by doubling: a chunk is always at least half full, whatever the sizes of the writes.
      const grown = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(open.used + bytes.byteLength, 2 * open.bytes.byteLength)));
      grown.set(open.bytes.subarray(0, open.used));
      open.bytes = grown;
    } else if (!open || open.bytes.byteLength - open.used < bytes.byteLength) {
      open = { bytes: new Uint8Array(Math.max(MIN_CHUNK_BYTES, 2 * bytes.byteLength)), used: 0 };
      queue.push(open);
    }
    open.bytes.set(bytes, open.used);
    open.used += bytes.byteLength;
  };

  const pump = async () => {
    pumping = true;
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (next === open) open = undefined;
      const bytes = next.used === next.bytes.byteLength ? next.bytes : next.bytes.subarray(0, next.used);
      try {
        if (!broken) {
          await sink.write(bytes);
          await sink.flush();
        }
      } catch {
        // The child closed its stdin; what it did not read is lost, as with any pipe.
        broken = true;
      } finally {
        taken += bytes.byteLength;
        onTaken?.(taken);
      }
    }
    pumping = false;
    if (ending) {
      try {
        await sink.end();
      } catch {
        // Already closed by the child.
      }
      // Only now may an fd the sink does not own be closed: a write still under way would otherwise
      // go to whatever file reused its number.
      onEnded?.();
    }
  };

  return {
    write(bytes) {
      if (ending) return true;
      if (!fitsPending(accepted, taken, bytes.byteLength)) return false;
      accepted += bytes.byteLength;
      enqueue(bytes);
      if (!pumping) void pump();
      return true;
    },
    end() {
      if (ending) return;
      ending = true;
      if (!pumping) void pump();
    },
  };
}

/**
 * The same bound for a PTY's keystrokes. Bun.Terminal.write takes every byte and buffers what the
 * terminal does not take at once; `drain` fires once that buffer is empty. Bytes written since the
 * last `drain` are counted as waiting, which overcounts only what the terminal took at once. That
 * could add up without end, since a write the terminal takes whole fires no `drain`: so the last
 * byte of each write goes in a write of its own, which Bun always buffers (it is below a page) and
 * follows with a `drain` once it is out.
 */
export function createTerminalStdinWriter(terminal: Bun.Terminal, onTaken?: StdinTaken): TerminalStdinWriter {
  let written = 0;
  // What the terminal had taken at its last `drain`: everything written by then.
  let taken = 0;
  return {
    write(bytes) {
      if (terminal.closed || bytes.byteLength === 0) return true;
      if (!fitsPending(written, taken, bytes.byteLength)) return false;
      written += bytes.byteLength;
      if (bytes.byteLength > 1) terminal.write(bytes.subarray(0, -1));
      terminal.write(bytes.subarray(-1));
      return true;
    },
    end() {
      // A terminal has no end of file of its own: ^D is what a line-reading program takes as one.
      if (!terminal.closed) terminal.write("\x04");
    },
    drained() {
      taken = written;
      onTaken?.(taken);
    },
  };
}
