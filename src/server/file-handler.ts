import type { ErrorCode } from "../protocol/index.ts";
import type { FileReply, FileRequest } from "../protocol/file-messages.ts";

// STUB, to be replaced by the files work (issue 5). The session creates one handler per connection.

/** What the file handler of one connection may use. */
export interface FileContext {
  /** Real path of the session's workspace. */
  readonly workspace: string;
  /** uid and gid that sandboxed commands run as; files the server creates get this owner. undefined: leave as is. */
  readonly owner: { uid: number; gid: number } | undefined;
  /** Workspace quota in bytes (`--workspace-quota-bytes`); undefined: none. */
  readonly quotaBytes: number | undefined;
  /** Sends one reply on this connection. */
  send(message: FileReply): void;
  sendError(code: ErrorCode, message: string, id?: string): void;
  /** A promise that settles when this connection can take more, or undefined when it can now. */
  congestion(): Promise<void> | undefined;
}

/** Serves the file requests of one connection. */
export interface FileHandler {
  handle(message: FileRequest): void;
  /** The connection closed: stop transfers and watches. */
  close(): void;
}

export function createFileHandler(context: FileContext): FileHandler {
  return {
    handle(message) {
      context.sendError("internal", `${message.type} is not implemented yet`, message.id);
    },
    close() {},
  };
}
