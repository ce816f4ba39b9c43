/**
 * The bunker client: `connect(url, { token })` gives a session; `session.exec(command, options)`
 * gives a handle with stdout and stderr as async iterables of bytes (and text), `write`, `end`,
 * `signal`, `resize` and `exited`. It runs in browsers and Bun with their WebSocket, and in Node
 * through ./node.ts, which brings the `ws` package. It imports nothing but src/protocol/.
 */
export { connect } from "./connect.ts";
export type { ConnectOptions } from "./connect-options.ts";
export type { KeepaliveOptions } from "./keepalive.ts";
export type { ReconnectOptions, ReconnectingEvent, ReconnectedEvent } from "./reconnect-options.ts";
export type { Session, SessionClosed, AttachOptions } from "./session-types.ts";
export type { ExecHandle, ExecStarted, ExecExit } from "./exec-handle-types.ts";
export type { ExecOptions, ExecCommand } from "./exec-options.ts";
export type { RunOptions, RunResult } from "./run-command.ts";
export type { OutputStream, OutputGap } from "./output-stream.ts";
export type {
  SessionFiles,
  FileStat,
  FileList,
  WorkspaceUsage,
  ReadOptions,
  ListOptions,
  WriteOptions,
  MkdirOptions,
  MoveOptions,
  RemoveOptions,
} from "./files.ts";
export type { UploadOptions } from "./file-upload.ts";
export type { DownloadOptions, FileDownload, DownloadReady } from "./file-download.ts";
export type { FileWatch, FileEvent, WatchOptions } from "./file-watch.ts";
export type { WebSocketLike, WebSocketConstructor } from "./websocket.ts";
export { BunkerError, CLIENT_ERROR_CODES, type BunkerErrorCode, type ClientErrorCode } from "./errors.ts";
export {
  ERROR_CODES,
  SIGNAL_NAMES,
  type ErrorCode,
  type ExecInfo,
  type ExecRlimits,
  type FileEntry,
  type HelloMessage,
  type OutputEncoding,
  type SandboxInfo,
  type SignalName,
  type TerminalSize,
} from "../protocol/index.ts";
