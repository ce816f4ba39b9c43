import type { FileReply } from "../protocol/index.ts";
import { createDeferred } from "./deferred.ts";
import { BunkerError } from "./errors.ts";
import type { FileChannel } from "./file-channel.ts";
import { ReplyQueue } from "./reply-queue.ts";

/** Options of `files.watch`. */
export interface WatchOptions {
  /** Watch every directory under it too (default false). */
  recursive?: boolean;
}

/**
 * Events that wait in the client for the iteration, at most: past it they are dropped and
 * `overflowed` turns true, as the server does for a client that does not read (PROTOCOL.md,
 * file.watch). The client always reads its socket, so the server's own bound never applies to it.
 */
export const MAX_QUEUED_WATCH_EVENTS = 10_000;

/** One change under a watched directory (`path` relative to the workspace). */
export interface FileEvent {
  type: "create" | "modify" | "remove";
  path: string;
}

/**
 * A running `file.watch`: its events, one at a time, until `close()` (or until the directory is
 * removed or moved away, which ends the iteration). Leaving a loop over it early (`break`, `return`,
 * a throw) closes it too, as a loop over a download cancels that. `overflowed` turns true when
 * events were lost (too many, or read too slowly): list the tree again then.
 */
export interface FileWatch extends AsyncIterable<FileEvent> {
  /** The watched directory, as the server resolved it. */
  readonly path: string;
  readonly overflowed: boolean;
  /** Stops the watch; resolves once the server has. */
  close(): Promise<void>;
}

/** Starts `file.watch` and resolves once the server watches (its `ready`). */
export async function watchDirectory(channel: FileChannel, path: string, options: WatchOptions): Promise<FileWatch> {
  const id = channel.nextId();
  const ready = createDeferred<string>();
  const closed = createDeferred<void>();
  const events = new ReplyQueue<FileEvent>();
  let overflowed = false;
  const opened = channel.open(
    { type: "file.watch", id, path, ...(options.recursive !== undefined && { recursive: options.recursive }) },
    {
      reply(message: FileReply) {
        if (message.type === "file.watch.ready") ready.resolve(message.path);
        else if (message.type === "file.watch.events") {
          const room = MAX_QUEUED_WATCH_EVENTS - events.length;
          events.push(...message.events.slice(0, Math.max(0, room)));
          if (message.overflow || message.events.length > room) overflowed = true;
        } else if (message.type === "file.unwatch.result") {
          channel.release(id);
          events.end();
          closed.resolve();
        }
      },
      fail(error) {
        channel.release(id);
        events.fail(error);
        ready.reject(error);
        closed.resolve();
      },
    },
  );
  if (!opened) throw new BunkerError("connection_closed", `the connection closed before the watch of ${JSON.stringify(path)} was sent`);
  const watched = await ready.promise;
  let unwatchSent = false;
  const close = async () => {
    // Once: a second `file.unwatch` would meet `unknown_transfer` after the first one's result.
    if (events.open && !unwatchSent) unwatchSent = channel.send({ type: "file.unwatch", id });
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
        next: () => events.next(),
        async return(): Promise<IteratorResult<FileEvent>> {
          await close();
          return { value: undefined, done: true };
        },
      };
    },
  };
}
