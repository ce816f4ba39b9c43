import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ErrorCode, FileReply } from "../../../src/protocol/index.ts";
import { createFileHandler, type FileContext, type FileHandler } from "../../../src/server/file-handler.ts";

/** A reply or an error, as a connection would receive it. */
export type Received = FileReply | { type: "error"; id?: string; code: ErrorCode; message: string };

/** A file handler over a fresh temporary workspace, with its replies in a queue that tests await. */
export interface Harness extends Disposable {
  readonly workspace: string;
  readonly handler: FileHandler;
  /** Sends a request and waits for the first reply (or error) with its id. */
  request<T extends Received = Received>(message: Record<string, unknown> & { type: string; id: string }): Promise<T>;
  /** The next reply that matches, waiting for it. */
  next<T extends Received = Received>(matches: (reply: Received) => boolean): Promise<T>;
  /** Replies received and not yet taken by next() or request(). */
  queued(): readonly Received[];
  /** Makes congestion() return a promise until `release` is called. */
  congest(): () => void;
}

export function createHarness(options: Partial<Pick<FileContext, "owner" | "quotaBytes" | "limits" | "pathScheme">> & { workspace?: string } = {}): Harness {
  const workspace = options.workspace ?? realpathSync(mkdtempSync(join(tmpdir(), "bunker-files-")));
  const queue: Received[] = [];
  const waiters: { matches: (reply: Received) => boolean; resolve: (reply: Received) => void }[] = [];
  let congestion: Promise<void> | undefined;
  const deliver = (reply: Received) => {
    const index = waiters.findIndex((waiter) => waiter.matches(reply));
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(reply);
    else queue.push(reply);
  };
  const handler = createFileHandler({
    workspace,
    owner: options.owner,
    quotaBytes: options.quotaBytes,
    limits: options.limits,
    pathScheme: options.pathScheme,
    send: (reply) => deliver(structuredClone(reply)),
    sendError: (code, message, id) => deliver({ type: "error", ...(id !== undefined && { id }), code, message }),
    congestion: () => congestion,
  });
  const next = <T extends Received>(matches: (reply: Received) => boolean): Promise<T> => {
    const index = queue.findIndex(matches);
    if (index >= 0) return Promise.resolve(queue.splice(index, 1)[0] as T);
    return new Promise<T>((resolve) => waiters.push({ matches, resolve: resolve as (reply: Received) => void }));
  };
  return {
    workspace,
    handler,
    request(message) {
      handler.handle(message as never);
      return next((reply) => "id" in reply && reply.id === message.id);
    },
    next,
    queued: () => [...queue],
    congest() {
      const { promise, resolve } = Promise.withResolvers<void>();
      congestion = promise;
      return () => {
        congestion = undefined;
        resolve();
      };
    },
    [Symbol.dispose]() {
      handler.close();
      if (!options.workspace) rmSync(workspace, { recursive: true, force: true });
    },
  };
}
