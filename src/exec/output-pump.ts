import type { OutputEncoding, OutputStream } from "../protocol/index.ts";
import { createUtf8Chunker } from "./utf8-chunker.ts";

/** Where an exec's output goes, and whether that place can take more now. */
export interface OutputSink {
  /** Sends one message, already serialised. */
  send(text: string): void;
  /** A promise that settles when the client can take more, or undefined when it can now. */
  congestion(): Promise<void> | undefined;
}

/** Shared budget of output bytes across an exec's streams (`maxOutputBytes`). */
export interface OutputBudget {
  /** Bytes still allowed; Infinity when unlimited. */
  remaining: number;
  /** Called when output goes past the budget; may be called more than once. */
  onExhausted(): void;
}

/** Largest run of raw bytes in one output message. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/**
 * Forwards one stream of a child to the client as `output` messages, a chunk as it is read.
 * Backpressure: the next read waits while the client is congested, so the pipe fills and the child
 * blocks in write(); nothing is dropped. `done` resolves with the byte count at end of stream;
 * `cancel` stops reading (for pipes that a process outside the tree still holds open).
 */
export function pumpOutput(
  stream: ReadableStream<Uint8Array>,
  name: OutputStream,
  execId: string,
  encoding: OutputEncoding,
  sink: OutputSink,
  budget: OutputBudget,
): { done: Promise<number>; cancel(): void } {
  const reader = stream.getReader();
  return {
    done: pump(reader, name, execId, encoding, sink, budget),
    cancel: () => {
      reader.cancel().catch(() => {});
    },
  };
}

async function pump(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  name: OutputStream,
  execId: string,
  encoding: OutputEncoding,
  sink: OutputSink,
  budget: OutputBudget,
): Promise<number> {
  const chunker = encoding === "utf8" ? createUtf8Chunker() : null;
  const prefix = `{"type":"output","id":${JSON.stringify(execId)},"stream":"${name}","offset":`;
  let offset = 0;

  const emitPiece = (bytes: Uint8Array) => {
    if (chunker) {
      const decoded = chunker.push(bytes);
      if (decoded.byteLength === 0) return;
      sink.send(`${prefix}${offset},"data":${JSON.stringify(decoded.text)}}`);
      offset += decoded.byteLength;
    } else {
      sink.send(`${prefix}${offset},"data":"${base64(bytes)}"}`);
      offset += bytes.byteLength;
    }
  };
  // Pipes hand over up to 512 KiB at once; smaller messages keep each string short-lived, which
  // keeps the server's heap flat, and let a terminal render sooner.
  const emit = (bytes: Uint8Array) => {
    for (let start = 0; start < bytes.byteLength; start += MAX_MESSAGE_BYTES) {
      emitPiece(bytes.subarray(start, start + MAX_MESSAGE_BYTES));
    }
  };

  try {
    for (;;) {
      const congested = sink.congestion();
      if (congested) await congested;
      const { done, value } = await reader.read();
      if (done) break;
      // Past the budget the rest is read and discarded, so that the child never blocks before it is killed.
      if (value.byteLength > budget.remaining) {
        if (budget.remaining > 0) emit(value.subarray(0, budget.remaining));
        budget.remaining = 0;
        budget.onExhausted();
        continue;
      }
      budget.remaining -= value.byteLength;
      emit(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunker) {
    const rest = chunker.flush();
    if (rest.byteLength > 0) {
      sink.send(`${prefix}${offset},"data":${JSON.stringify(rest.text)}}`);
      offset += rest.byteLength;
    }
  }
  return offset;
}
