import type { FileReply, FileRequest } from "../protocol/index.ts";
import type { BunkerError } from "./errors.ts";

/** What a request answered by a stream of replies (an upload, a download, a watch) is told. */
export interface FileStreamHandler {
  /** A reply with the request's id. */
  reply(message: FileReply): void;
  /** An `error` with the request's id, or the connection closed (`connection_closed`, `session_closed`). */
  fail(error: BunkerError): void;
}

/** How the file methods reach the server: the session routes replies and errors by request id. */
export interface FileChannel {
  /** A fresh request id, unique on this connection and never an exec id of this client. */
  nextId(): string;
  /** Sends a request answered by one reply, and resolves with it; rejects with its `error`. */
  request(message: FileRequest): Promise<FileReply>;
  /**
   * Sends a request answered by a stream of replies: `handler` gets each until `release` is called.
   * False (and nothing registered) when the connection is not open.
   */
  open(message: FileRequest, handler: FileStreamHandler): boolean;
  /** Sends a follow-up of an open stream (a chunk, a cancel, an unwatch); false when the connection is not open. */
  send(message: FileRequest): boolean;
  /** Stops routing replies of `id` to its handler. */
  release(id: string): void;
  /** Resolves once the socket has little enough queued to take more. */
  drained(): Promise<void>;
  /** The server's frame limit (`hello.maxFrameBytes`), when it names one. */
  readonly maxFrameBytes: number | undefined;
}
