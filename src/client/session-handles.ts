import * as v from "valibot";
import { AttachMessageSchema, describeIssue, type AttachMessage, type ExecMessage } from "../protocol/index.ts";
import type { ExecTransport } from "./exec-handle-types.ts";
import { ClientExecHandle } from "./exec-handle.ts";
import { assertExecIdNotReserved } from "./exec-ids.ts";
import { DEFAULT_ENCODING, buildExecMessage, type ExecCommand, type ExecOptions } from "./exec-options.ts";
import type { MessageRouter } from "./message-router.ts";
import type { AttachOptions } from "./session-types.ts";

/** What making a handle needs from its session. */
export interface HandleMaker {
  readonly router: MessageRouter;
  readonly transport: ExecTransport;
  makeId(): string;
}

/** A handle and the message that starts following its exec, for the session to send. */
export interface NewHandle<M> {
  handle: ClientExecHandle;
  message: M;
}

/**
 * `session.exec`'s handle and `exec` message. Misuse (bad options, a reserved id, the id of an exec
 * the session still follows) throws a TypeError quoting it, before anything is sent.
 */
export function createExecHandle(maker: HandleMaker, command: ExecCommand, options: ExecOptions): NewHandle<ExecMessage> {
  const message = buildExecMessage(command, options, () => maker.makeId());
  assertExecIdNotReserved("exec", message.id);
  if (maker.router.execs.get(message.id)?.live) throw new TypeError(`exec: id ${JSON.stringify(message.id)} belongs to an exec this session still follows`);
  const handle = new ClientExecHandle(
    {
      id: message.id,
      encoding: message.encoding ?? DEFAULT_ENCODING,
      ackWindowBytes: message.ackWindowBytes,
      stdinOpen: message.stdin === true || message.pty !== undefined,
      execMessage: message,
    },
    maker.transport,
  );
  return { handle, message };
}

/**
 * `session.attach`'s handle and `attach` message: what the session last heard of the exec (its
 * state, pid, size, stdin count) starts the handle. Misuse throws a TypeError, as for exec.
 */
export function createAttachHandle(maker: HandleMaker, id: string, offsets: { stdout?: number; stderr?: number }, options: AttachOptions): NewHandle<AttachMessage> {
  const encoding = options.encoding ?? DEFAULT_ENCODING;
  const message = { type: "attach" as const, id, offsets, encoding, ...(options.ackWindowBytes !== undefined && { ackWindowBytes: options.ackWindowBytes }) };
  const checked = v.safeParse(AttachMessageSchema, message);
  if (!checked.success) throw new TypeError(`attach: ${describeIssue(checked.issues[0])} (got ${JSON.stringify(checked.issues[0].input)})`);
  assertExecIdNotReserved("attach", id);
  if (maker.router.execs.get(id)?.live) throw new TypeError(`attach: this session already follows exec ${JSON.stringify(id)}`);
  const info = maker.router.known.get(id);
  const handle = new ClientExecHandle(
    {
      id,
      encoding,
      ackWindowBytes: options.ackWindowBytes,
      stdinOpen: info?.state !== "exited",
      attached: { info, offsets: { stdout: offsets.stdout ?? 0, stderr: offsets.stderr ?? 0 } },
    },
    maker.transport,
  );
  return { handle, message: checked.output };
}
