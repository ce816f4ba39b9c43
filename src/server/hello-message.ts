import { HELLO_COMMAND_BYTES, PROTOCOL_VERSION, type HelloMessage, type SandboxInfo } from "../protocol/index.ts";
import { VERSION } from "../version.ts";
import type { ServerOptions } from "./options.ts";
import type { Session } from "./session.ts";

/** What a socket's hello depends on besides its session. */
export interface HelloContext {
  connectionId: string;
  resumed: boolean;
  /** A viewer's hello carries neither secret, and says `role: "viewer"`. */
  viewer: boolean;
  /** The detach TTL the socket asked for, if less than the server's. */
  detachTtlMs: number | undefined;
}

/** The first message of a socket that got its session. */
export function buildHello(session: Session, context: HelloContext, options: ServerOptions, sandbox: SandboxInfo): HelloMessage {
  return {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    version: VERSION,
    session: session.id,
    ...(session.name !== undefined && { name: session.name }),
    ...(context.viewer ? { role: "viewer" as const } : { resumeSecret: session.resumeSecret, viewSecret: session.viewSecret }),
    connection: context.connectionId,
    resumed: context.resumed,
    // Every remembered exec, with enough of its command to name it: their requests may add up to
    // 8 MiB (files written through heredocs), which every reconnect of a page carried (noted by a
    // soak; measured: 8.4 MB for a session of 200 files of 50 KB).
    execs: context.resumed ? session.execInfos(HELLO_COMMAND_BYTES) : [],
    host: options.hostId,
    workspace: session.workspace.path,
    sandbox,
    maxFrameBytes: options.limits.maxFrameBytes,
    maxMessagesPerSecond: options.limits.maxMessagesPerSecond,
    // A viewer's leaving ends nothing and starts no clock: it has no TTL of its own to learn.
    ...(!context.viewer && { detachTtlMs: context.detachTtlMs ?? options.detachTtlMs }),
  };
}
