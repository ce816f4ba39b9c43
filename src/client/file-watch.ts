import type { FileReply } from "../protocol/index.ts";
import { createDeferred } from "./deferred.ts";
import { BunkerError } from "./errors.ts";
import type { FileChannel } from "./file-channel.ts";

/** One change under a watched directory (`path` relative to the workspace). */
export interface FileEvent {
  type: "create" | "modify" | "remove";
  path: string;
}

/**
 * A running `file.watch`: its events, one at a time, until `close()` (or until the directory is
 * removed or moved away, which ends the iteration). `overflowed` turns true when the server lost
 * events (too many, or read too slowly): list the tree again then.
 */
export interface FileWatch extends AsyncIterable<FileEvent> {
  /** The watched directory, as the server resolved it. */
  readonly path: string;
  readonly overflowed: boolean;
  /** Stops the watch; resolves once the server has. */
  close(): Promise<void>;
}

/** Starts `file.watch` and resolves once the server watches (its `ready`). */
export async function watchDirectory(channel: FileChannel, path: string, options: { recursive?: boolean }): Promise<FileWatch> {
  const id = channel.nextId();
  const ready = createDeferred<string>();
  const closed = createDeferred<void>();
  const events: FileEvent[] = [];
  let overflowed = false;
  let ended = false;
  let failure: BunkerError | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  const opened = channel.open(
    { type: "file.watch", id, path, ...(options.recursive !== undefined && { recursive: options.recursive }) },
    {
      reply(message: FileReply) {
        if (message.type === "file.watch.ready") ready.resolve(message.path);
        else if (message.type === "file.watch.events") {
          events.push(...message.events);
          if (message.overflow) overflowed = true;
        } else if (message.type === "file.unwatch.result") {
          ended = true;
          channel.release(id);
          closed.resolve();
        }
        notify();
      },
      fail(error) {
        failure = error;
        channel.release(id);
        ready.reject(error);
        closed.resolve();
        notify();
      },
    },
  );
  if (!opened) throw new BunkerError("connection_closed", `the connection closed before the watch of ${JSON.stringify(path)} was sent`);
  const watched = await ready.promise;
  const close = async () => {
    if (!ended && !failure) channel.send({ type: "file.unwatch", id });
    await closed.promise;
  };
  return {
    path: watched,
    get overflowed() {
      return overflowed;
    },
    close,
    [Symbol.asyncIterator]() {
      return {
        async next(): Promise<IteratorResult<FileEvent>> {
          for (;;) {
            const event = events.shift();
            if (event) return { value: event, done: false };
            if (ended) return { value: undefined, done: true };
            if (failure) throw failure;
            await new Promise<void>((resolve) => (wake = resolve));
          }
        },
        async return(): Promise<IteratorResult<FileEvent>> {
          return { value: undefined, done: true };
        },
      };
    },
  };
}
