import type { ServerMessage } from "../protocol/index.ts";

interface Pending {
  key: string;
  resolve: (message: ServerMessage) => void;
  reject: (error: Error) => void;
}

/**
 * Requests that wait for a reply: `list` (answered by `execs` with its id) and `close` (answered by
 * `closed`). File requests (`file.*`, answered by replies with their id) belong here too.
 *
 * The server answers in the order it receives, and this client sends only well-formed messages, so
 * an `error` without an id (a server that does not know the request) belongs to the oldest request.
 */
export class PendingRequests {
  readonly #pending: Pending[] = [];

  /** Registers a request under `key` (its id, or its type for a request without one). */
  add(key: string): Promise<ServerMessage> {
    return new Promise((resolve, reject) => this.#pending.push({ key, resolve, reject }));
  }

  /** Settles the request of that key with its reply; false when none waits. */
  resolve(key: string, message: ServerMessage): boolean {
    const entry = this.#take((pending) => pending.key === key);
    entry?.resolve(message);
    return entry !== undefined;
  }

  /** Fails the request of that key, or with no key the oldest one; false when none waits. */
  reject(key: string | undefined, error: Error): boolean {
    const entry = this.#take((pending) => key === undefined || pending.key === key);
    entry?.reject(error);
    return entry !== undefined;
  }

  /** Fails every request (the connection closed). */
  rejectAll(error: Error): void {
    for (const entry of this.#pending.splice(0)) entry.reject(error);
  }

  #take(matches: (pending: Pending) => boolean): Pending | undefined {
    const index = this.#pending.findIndex(matches);
    return index < 0 ? undefined : this.#pending.splice(index, 1)[0];
  }
}
