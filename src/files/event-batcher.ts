import type { FILE_EVENT_TYPES } from "../protocol/index.ts";

/** One change a watch reports. */
export interface WatchEvent {
  readonly type: (typeof FILE_EVENT_TYPES)[number];
  readonly path: string;
}

/** How long to gather, how much to hold, and where batches go. */
export interface EventBatcherOptions {
  readonly batchMs: number;
  /** Events held for a slow client; past this they are dropped and the next batch says `overflow`. */
  readonly maxPending: number;
  /** A promise while the connection cannot take more, as FileContext.congestion. */
  congestion(): Promise<void> | undefined;
  send(events: WatchEvent[], overflow: boolean): void;
}

/** Gathers a watch's events for `batchMs`, then sends them in one message once the connection can take it. */
export interface EventBatcher {
  push(event: WatchEvent): void;
  /** Marks that events were lost (too many directories, say). */
  overflow(): void;
  close(): void;
  /** Sends what is pending at once (once the connection can take it), then closes. */
  finish(): Promise<void>;
}

/** Starts an empty batcher; nothing is sent until an event is pushed. */
export function createEventBatcher(options: EventBatcherOptions): EventBatcher {
  let pending: WatchEvent[] = [];
  let overflowed = false;
  let scheduled = false;
  let closed = false;

  const flush = async () => {
    const congested = options.congestion();
    if (congested) await congested;
    scheduled = false;
    if (closed || (pending.length === 0 && !overflowed)) return;
    const events = pending;
    const lost = overflowed;
    pending = [];
    overflowed = false;
    options.send(events, lost);
  };
  const schedule = () => {
    if (scheduled || closed) return;
    scheduled = true;
    setTimeout(() => void flush(), options.batchMs);
  };

  return {
    push(event) {
      if (closed) return;
      const last = pending.at(-1);
      if (last?.type === event.type && last.path === event.path) return;
      if (pending.length >= options.maxPending) {
        overflowed = true;
        pending = [];
      }
      pending.push(event);
      schedule();
    },
    overflow() {
      overflowed = true;
      schedule();
    },
    close() {
      closed = true;
      pending = [];
    },
    async finish() {
      const congested = options.congestion();
      if (congested) await congested;
      if (closed) return;
      if (pending.length > 0 || overflowed) options.send(pending, overflowed);
      closed = true;
      pending = [];
    },
  };
}
