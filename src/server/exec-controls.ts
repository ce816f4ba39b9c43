import type { AckMessage, AttachMessage, DetachMessage, ErrorCode, ResizeMessage, SignalMessage, StdinMessage } from "../protocol/index.ts";
import { MAX_STDIN_CREDIT_WRITERS } from "../protocol/limits.ts";
import { decodeDataInput } from "../common/base64-input.ts";
import type { ExecRecord } from "./exec-record.ts";
import type { SessionConnection } from "./session.ts";

/** The messages about one exec of the session: its id, and what to do with it. */
export type ExecControlMessage = StdinMessage | SignalMessage | ResizeMessage | AttachMessage | DetachMessage | AckMessage;

/** What the exec messages need of their session. */
export interface ExecControlContext {
  /** The exec of that id the session remembers, running or finished. */
  record(id: string): ExecRecord | undefined;
  sendError(connection: SessionConnection, code: ErrorCode, message: string, id?: string): void;
  /** A socket subscribed to the record: a drain or a leave has to look at it from now on. */
  streaming(record: ExecRecord): void;
}

/** Handles stdin, signal, resize, attach, detach and ack from a joined socket; every refusal is an `error` reply. */
export function handleExecControl(context: ExecControlContext, connection: SessionConnection, message: ExecControlMessage): void {
  const withRecord = (what: string, act: (record: ExecRecord) => void) => {
    const record = context.record(message.id);
    if (!record) return context.sendError(connection, "unknown_exec", `no exec with id ${JSON.stringify(message.id)} in this session (${what})`, message.id);
    act(record);
  };
  const withRunning = (what: string, act: (record: ExecRecord) => void) =>
    withRecord(what, (record) => {
      if (!record.running) return context.sendError(connection, "invalid_state", `exec ${JSON.stringify(message.id)} has exited; it takes no ${what}`, message.id);
      act(record);
    });
  switch (message.type) {
    case "stdin":
      return withRunning("stdin", (record) => writeStdin(context, connection, message, record));
    case "signal":
      return withRunning("signal", (record) => record.running!.signal(message.signal));
    case "resize":
      return withRunning("resize", (record) => {
        const size = { cols: message.cols, rows: message.rows };
        if (!record.running!.resize(size)) {
          return context.sendError(connection, "invalid_state", `exec ${JSON.stringify(message.id)} has no terminal to resize: start it with pty`, message.id);
        }
        record.resized(size, connection.sink);
      });
    case "attach":
      return withRecord("attach", (record) => attach(context, connection, message, record));
    case "detach":
      return withRecord("detach", (record) => record.unsubscribe(connection.sink));
    case "ack":
      return withRecord("ack", (record) => record.subscription(connection.sink)?.ack(message.stream ?? "stdout", message.offset));
    default: {
      const unreachable: never = message;
      return unreachable;
    }
  }
}

function writeStdin(context: ExecControlContext, connection: SessionConnection, message: StdinMessage, record: ExecRecord): void {
  const running = record.running!;
  if (!running.stdinOpen) {
    return context.sendError(connection, "invalid_state", `exec ${JSON.stringify(message.id)} takes no stdin: it was started without stdin: true, or its stdin has ended`, message.id);
  }
  let bytes: Buffer | undefined;
  if (message.data !== undefined && message.data.length > 0) {
    const decoded = decodeDataInput(message.data, message.encoding, "data");
    if (!decoded.ok) return context.sendError(connection, "bad_message", decoded.problem, message.id);
    bytes = decoded.bytes;
  }
  record.stdinWrittenBy(connection.sink);
  if (bytes !== undefined) {
    if (!running.writeStdin(bytes)) {
      return context.sendError(connection, "limit_exceeded", `exec ${JSON.stringify(message.id)} is not reading its stdin fast enough: too many bytes already wait`, message.id);
    }
    record.stdinReceived(connection.sink, bytes.byteLength);
  }
  if (message.credit && !record.stdinCreditAsked(connection.sink)) {
    return context.sendError(connection, "limit_exceeded", `exec ${JSON.stringify(message.id)} already has ${MAX_STDIN_CREDIT_WRITERS} sockets with stdin credit, the most it may`, message.id);
  }
  if (message.eof) {
    running.endStdin();
    record.stdinEnded();
  }
}

function attach(context: ExecControlContext, connection: SessionConnection, message: AttachMessage, record: ExecRecord): void {
  const from = { stdout: message.offsets?.stdout ?? 0, stderr: message.offsets?.stderr ?? 0 };
  for (const stream of ["stdout", "stderr"] as const) {
    if (from[stream] > record.logs[stream].end) {
      return context.sendError(connection, "bad_message", `offsets.${stream}: ${from[stream]} is past the ${record.logs[stream].end} bytes the exec has produced`, message.id);
    }
  }
  record.subscribe(connection.sink, {
    from,
    ...(message.encoding && { encoding: message.encoding }),
    ackWindowBytes: message.ackWindowBytes,
  });
  context.streaming(record);
}
