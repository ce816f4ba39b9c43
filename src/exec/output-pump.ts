import type { OutputLog } from "./output-log.ts";

/** Shared budget of output bytes across an exec's streams (`maxOutputBytes`). */
export interface OutputBudget {
  /** Bytes still allowed; Infinity when unlimited. */
  remaining: number;
  /** Called when output goes past the budget; may be called more than once. */
  onExhausted(): void;
}

/**
 * Takes what fits in the budget from `bytes`; past the budget the rest is dropped (and the exec
 * is killed by onExhausted), so that the child never blocks before it dies. What is cut is a copy:
 * logs are kept, among a session's finished execs, counted by their bytes, and a view would keep
 * the whole buffer the read filled (an agent capping output at 20,000 bytes held 43 KB to 256 KiB
 * per command, found by a soak).
 */
export function takeWithinBudget(bytes: Uint8Array, budget: OutputBudget): Uint8Array {
  if (bytes.byteLength <= budget.remaining) {
    budget.remaining -= bytes.byteLength;
    return bytes;
  }
  const kept = bytes.slice(0, Math.max(0, budget.remaining));
  budget.remaining = 0;
  budget.onExhausted();
  return kept;
}

/**
 * Moves one stream of a child into its output log, a chunk as it is read. Backpressure: the next
 * read waits while the log has no room (its furthest reader is a whole log behind), so the pipe
 * fills and the child blocks in write(). `done` resolves with the byte count at end of stream, and
 * the log is finished then unless `finishLog` is false (more is to come from elsewhere); `cancel`
 * stops reading (for pipes that a process outside the tree still holds open).
 */
export function pumpOutput(stream: ReadableStream<Uint8Array>, log: OutputLog, budget: OutputBudget, finishLog = true): { done: Promise<number>; cancel(): void } {
  const reader = stream.getReader();
  return {
    done: pump(reader, log, budget, finishLog),
    cancel: () => {
      reader.cancel().catch(() => {});
    },
  };
}

async function pump(reader: ReadableStreamDefaultReader<Uint8Array>, log: OutputLog, budget: OutputBudget, finishLog: boolean): Promise<number> {
  try {
    for (;;) {
      const room = log.waitForRoom();
      if (room) await room;
      const { done, value } = await reader.read();
      if (done) break;
      // Each read is a new buffer that only this pump has seen: the log may free it when done. Only
      // a read that is its whole buffer is claimed, should a later Bun hand out views of a shared one.
      const whole = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength;
      const kept = takeWithinBudget(value, budget);
      // A cut read is a copy that only the log holds.
      log.append(kept, whole || kept !== value);
    }
  } finally {
    // The reader is not released: nothing reads the stream after it, and releaseLock cost 8 to 16 µs
    // per stream (two per exec) on the way to the exit message.
    if (finishLog) log.finish();
  }
  return log.end;
}
