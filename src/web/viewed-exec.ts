import type { ClientMessage, ServerMessage } from "../protocol/index.ts";
import { ACK_WINDOW_BYTES } from "./ack-window.ts";
import { createExecOutput, type OutputTerminal } from "./exec-output.ts";
import { describeExit, formatNotice } from "./exit-text.ts";
import type { ShellState } from "./shell.ts";

export interface ViewedExecOptions {
  id: string;
  term: OutputTerminal;
  /** A viewer may send attach, detach, ack, list and ping; this sends only attach and ack. */
  send(message: ClientMessage): boolean;
  /** The state or ending changed. */
  changed(): void;
}

/**
 * An exec a read-only viewer follows: its output goes to a terminal, and nothing goes back (no
 * stdin, resize or signal: the server would refuse them, and the page never sends them). As the
 * status bar shows it: starting (attach sent), running (output follows), exited.
 */
export interface ViewedExec {
  readonly id: string;
  readonly state: ShellState;
  /** How it ended, or why it cannot be shown; undefined while it runs. */
  readonly ending: string | undefined;
  /**
   * After each hello (or to take up a later shell): receive the output from the first byte this
   * page does not have, from 0 the first time.
   */
  attach(): void;
  /** The session has no such exec (hello.execs lacks it): says so, and it is over. */
  missing(): void;
  /** The exec was started after the viewer joined: it is subscribed from offset 0 already. */
  started(): void;
  /** A JSON message about this exec. */
  handle(message: ServerMessage): void;
  /** Bytes of stdout at `offset`, from binary frames. */
  output(offset: number, bytes: Uint8Array): void;
}

/** Creates the follower of exec `id`; call attach(), missing() or started() next. */
export function createViewedExec(options: ViewedExecOptions): ViewedExec {
  const { id, term, send } = options;
  let state: ShellState = "starting";
  let ending: string | undefined;
  const output = createExecOutput({ term, sendAck: (offset) => send({ type: "ack", id, stream: "stdout", offset }) });
  const end = (text: string) => {
    if (state === "exited") return;
    state = "exited";
    ending = text;
    term.write(formatNotice(text));
    options.changed();
  };
  const missing = () => end(`the session has no exec ${id} (any more)`);
  return {
    id,
    get state() {
      return state;
    },
    get ending() {
      return ending;
    },
    attach() {
      if (state === "exited") return;
      output.subscribed();
      send({ type: "attach", id, offsets: { stdout: output.nextOffset }, encoding: "binary", ackWindowBytes: ACK_WINDOW_BYTES });
      // An exec that ended while the viewer was away still replays its output, then its exit.
      state = "running";
      options.changed();
    },
    missing,
    started() {
      state = "running";
      options.changed();
    },
    handle(message) {
      switch (message.type) {
        case "gap":
          output.gap(message.from, message.to);
          return;
        case "exit":
          end(`shell ${describeExit(message)}`);
          return;
        case "error":
          if (message.code === "unknown_exec") missing();
          else console.warn(`bunker: ${message.code}: ${message.message}`);
          return;
        default:
          return;
      }
    },
    output(offset, bytes) {
      output.write(offset, bytes);
    },
  };
}
