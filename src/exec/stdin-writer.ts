import type { FileSink } from "bun";

/** Bytes of stdin that may wait for a command that does not read, per exec. */
export const MAX_PENDING_STDIN_BYTES = 8 * 1024 * 1024;

/** Writes a client's stdin to a child in order, with a bound on what may wait. */
export interface StdinWriter {
  /** Queues bytes; false (and nothing queued) when the bound would be passed. */
  write(bytes: Uint8Array): boolean;
  /** Closes the child's stdin after what is queued. */
  end(): void;
}

/**
 * Every write is awaited, so that a failure (EPIPE once the child has exited) is caught here and
 * never becomes an unhandled rejection; and the bytes still waiting are counted, so that a client
 * cannot grow the server's memory by writing to a command that never reads.
 */
export function createStdinWriter(sink: FileSink): StdinWriter {
  let pendingBytes = 0;
  let broken = false;
  let chain: Promise<void> = Promise.resolve();
  return {
    write(bytes) {
      if (pendingBytes + bytes.byteLength > MAX_PENDING_STDIN_BYTES) return false;
      pendingBytes += bytes.byteLength;
      chain = chain.then(async () => {
        try {
          if (broken) return;
          await sink.write(bytes);
          await sink.flush();
        } catch {
          // The child closed its stdin; what it did not read is lost, as with any pipe.
          broken = true;
        } finally {
          pendingBytes -= bytes.byteLength;
        }
      });
      return true;
    },
    end() {
      chain = chain.then(async () => {
        try {
          await sink.end();
        } catch {
          // Already closed by the child.
        }
      });
    },
  };
}
