import type { ClientMessage, FileReply, HelloMessage, ServerMessage } from "../protocol/index.ts";
import type { ExecTransport } from "./exec-handle-types.ts";
import type { FileChannel } from "./file-channel.ts";
import { rawBytesPerMessage } from "./message-bytes.ts";
import type { MessageRouter } from "./message-router.ts";
import { QueuedStdin } from "./queued-stdin.ts";
import type { SendLine } from "./send-pacer.ts";
import type { SocketLink } from "./socket-link.ts";
import { waitForBufferedBelow } from "./websocket.ts";

/** The socket's send queue above which stdin writes and file transfers wait. */
const SEND_HIGH_WATER_BYTES = 1024 * 1024;

/** What the exec handles and the file methods reach the server through: the session's current socket. */
export interface ChannelHost {
  readonly router: MessageRouter;
  /** The socket now (after a reconnect, the new one). */
  link(): SocketLink;
  /** Whether stdin may go to `link()` now: its socket is open and the session not over. */
  sendable(): boolean;
  send(message: ClientMessage, line?: SendLine): boolean;
  request(id: string, message: ClientMessage, line: SendLine): Promise<ServerMessage>;
}

/** How exec handles send: stdin joins a message still queued for the server's rate where it can (QueuedStdin). */
export function createExecTransport(host: ChannelHost, hello: HelloMessage, mayReconnect: boolean): ExecTransport {
  const messageBytes = rawBytesPerMessage(hello.maxFrameBytes);
  return {
    send: (message) => host.send(message),
    // Stdin is never held while reconnecting: a handle sends again what the server lacks once back.
    sendStdin: (id, bytes, eof) => {
      if (!host.sendable()) return false;
      const message = new QueuedStdin(id, messageBytes);
      message.add(id, bytes, eof);
      host.link().pacer.send(message);
      return true;
    },
    joinQueuedStdin: (id, bytes, eof) => {
      if (!host.sendable()) return false;
      const last = host.link().pacer.last();
      return last instanceof QueuedStdin && last.add(id, bytes, eof);
    },
    drained: async () => {
      // (The stdin sender has let the exec's `exit` and any refusal in already: yieldToSocketEvents.)
      // Not past messages that wait for the server's rate (those queued before it, not the ones
      // that come after: a file scan that keeps the queue full froze a terminal's keystrokes).
      const link = host.link();
      await link.pacer.flushed();
      await waitForBufferedBelow(link.socket, SEND_HIGH_WATER_BYTES);
    },
    messageBytes,
    mayReconnect,
    viewer: hello.role === "viewer",
  };
}

/** How the file methods send: in the bulk line, within the server's queue of file requests. */
export function createFileChannel(host: ChannelHost, hello: HelloMessage): FileChannel {
  const fileRequests = host.router.fileRequestSlots;
  return {
    nextId: () => host.router.nextFileId(),
    // Within the server's queue, which also holds the opens of uploads, downloads and watches.
    request: (message) => fileRequests.run(() => host.request(message.id, message, "bulk") as Promise<FileReply>),
    open: (message, handler) => {
      // Its place in the server's queue is taken until its first reply (ready, or an error).
      const release = fileRequests.hold();
      if (!host.send(message, "bulk")) {
        release();
        return false;
      }
      host.router.fileStreams.set(message.id, {
        reply: (reply) => {
          release();
          handler.reply(reply);
        },
        fail: (error) => {
          release();
          handler.fail(error);
        },
      });
      return true;
    },
    send: (message) => host.send(message, "bulk"),
    release: (id) => void host.router.fileStreams.delete(id),
    drained: async () => {
      const link = host.link();
      await link.pacer.flushed("bulk");
      await waitForBufferedBelow(link.socket, SEND_HIGH_WATER_BYTES);
    },
    maxFrameBytes: hello.maxFrameBytes,
  };
}
