import { StdinCredit } from "../client/stdin-credit.ts";
import type { ClientMessage, ExecInfo, ExitFactsMessage, ServerMessage, TerminalSize } from "../protocol/index.ts";
import { ACK_WINDOW_BYTES, createAckTracker } from "./ack-window.ts";
import { describeExit, formatNotice } from "./exit-text.ts";
import { SHELL_COMMAND, SHELL_ENV } from "./shell-command.ts";

/** starting: exec (or attach) sent, keystrokes wait; running: keystrokes go; exited: Enter starts a new one. */
export type ShellState = "starting" | "running" | "exited";

/** The terminal as a shell uses it: xterm's Terminal fits. */
export interface ShellTerminal {
  readonly cols: number;
  readonly rows: number;
  write(data: string | Uint8Array, callback?: () => void): void;
}

export interface ShellOptions {
  id: string;
  term: ShellTerminal;
  send(message: ClientMessage): boolean;
  /** The shell's state or exit changed. */
  changed(): void;
}

/** One interactive shell: a PTY exec whose output goes to a terminal and whose input comes from it. */
export interface Shell {
  readonly id: string;
  readonly state: ShellState;
  /** How it ended, or why it could not start; undefined while it runs. */
  readonly ending: string | undefined;
  /** Sends the exec, sized as the terminal is. */
  start(): void;
  /** After a resume: receive output again from the first byte this page does not have. */
  attach(info: ExecInfo): void;
  /**
   * What the terminal sends: keystrokes, and its answers to queries in the output. Dropped while
   * the output the shell wrote before the attach is replayed (see `attach`).
   */
  input(data: string): void;
  /** Input that is not UTF-8 (xterm's onBinary: one char per byte, from some mouse modes). */
  inputBinary(data: string): void;
  resize(size: TerminalSize): void;
  /** A JSON message about this exec. */
  handle(message: ServerMessage): void;
  /** Bytes of stdout at `offset`, from binary frames. */
  output(offset: number, bytes: Uint8Array): void;
}

/** Keeps each stdin frame far below the server's 1 MiB frame limit, even when JSON escapes every char. */
const MAX_STDIN_CHARS = 64 * 1024;

const encoder = new TextEncoder();

/** Creates a shell bound to a terminal; call start() or attach() next. */
export function createShell(options: ShellOptions): Shell {
  const { id, term, send } = options;
  let state: ShellState = "starting";
  let ending: string | undefined;
  /** The next stdout byte this page needs: everything before it is written to the terminal. */
  let nextOffset = 0;
  let sentSize: TerminalSize | undefined;
  /**
   * Output before this offset was written before the latest attach: a program's queries in it
   * (`ESC [ c`, `ESC ] 11 ; ?`, DECRQM) were answered then, or never will be usefully. The terminal
   * answers them again as it replays them, and those answers would land at today's prompt as typed
   * text, so input is dropped until the replay has been rendered.
   */
  let replayEnd = 0;
  let replaying = false;
  const waitingInput: string[] = [];
  /**
   * Stdin is paced by the server's `stdin.ack`: what was sent and is not acknowledged stays under
   * the 8 MiB the server holds for a program that has not read it (past that a write is refused and
   * lost), so a 10 MB paste into `cat` waits here, in order, rather than losing its middle. A shell
   * this page starts writes its exec's first byte; one it attaches to (after a reload or a
   * reconnect) counts from the first ack it hears (see StdinCredit).
   */
  const stdinCredit = new StdinCredit(true);
  const stdinWaiting: { message: ClientMessage; bytes: number }[] = [];
  const pumpStdin = () => {
    while (stdinWaiting.length > 0 && state === "running") {
      const next = stdinWaiting[0]!;
      if (!stdinCredit.fits(next.bytes)) return;
      // A socket that is down keeps the rest for the attach after the reconnect.
      if (!send(next.message)) return;
      stdinWaiting.shift();
      stdinCredit.sent(next.bytes);
    }
  };
  const queueStdin = (message: ClientMessage, bytes: number) => {
    stdinWaiting.push({ message, bytes });
    pumpStdin();
  };
  const ack = createAckTracker(ACK_WINDOW_BYTES, (offset) => send({ type: "ack", id, stream: "stdout", offset }));

  const notice = (text: string) => term.write(formatNotice(text));
  const rendered = (offset: number) => {
    ack.rendered(offset);
    if (offset >= replayEnd) replaying = false;
  };
  const end = (text: string, exit?: ExitFactsMessage) => {
    if (state === "exited") return;
    state = "exited";
    stdinWaiting.length = 0;
    ending = exit ? `shell ${describeExit(exit)}` : text;
    notice(`${ending}; press Enter for a new shell`);
    options.changed();
  };
  const sendStdin = (data: string) => {
    for (let start = 0; start < data.length; start += MAX_STDIN_CHARS) {
      const piece = data.slice(start, start + MAX_STDIN_CHARS);
      queueStdin({ type: "stdin", id, data: piece }, encoder.encode(piece).byteLength);
    }
  };
  const syncSize = () => {
    const size = { cols: term.cols, rows: term.rows };
    if (sentSize && sentSize.cols === size.cols && sentSize.rows === size.rows) return;
    if (send({ type: "resize", id, ...size })) sentSize = size;
  };

  return {
    id,
    get state() {
      return state;
    },
    get ending() {
      return ending;
    },
    start() {
      sentSize = { cols: term.cols, rows: term.rows };
      send({
        type: "exec",
        id,
        cmd: SHELL_COMMAND,
        env: SHELL_ENV,
        pty: sentSize,
        stdin: true,
        encoding: "binary",
        ackWindowBytes: ACK_WINDOW_BYTES,
      });
    },
    attach(info) {
      ack.reset(nextOffset);
      replayEnd = info.bytes.stdout;
      replaying = replayEnd > nextOffset;
      send({ type: "attach", id, offsets: { stdout: nextOffset }, encoding: "binary", ackWindowBytes: ACK_WINDOW_BYTES });
      // Whether the last resize before the drop arrived is unknown: send the size again.
      sentSize = undefined;
      // An exec that ended while the page was away still replays its output, then its exit.
      state = "running";
      // Whatever the old socket had in flight is lost or arrived; no ack for it will reach this one.
      stdinCredit.restart();
      if (info.state === "running") syncSize();
      pumpStdin();
      options.changed();
    },
    input(data) {
      if (replaying) return;
      if (state === "starting") waitingInput.push(data);
      else if (state === "running") sendStdin(data);
    },
    inputBinary(data) {
      if (state === "running") queueStdin({ type: "stdin", id, data: btoa(data), encoding: "base64" }, data.length);
    },
    resize() {
      if (state === "running") syncSize();
    },
    output(offset, bytes) {
      if (offset > nextOffset) notice(`${offset - nextOffset} bytes of output are missing here`);
      const skip = Math.max(0, nextOffset - offset);
      if (skip >= bytes.byteLength) return;
      const end = offset + bytes.byteLength;
      nextOffset = end;
      term.write(skip > 0 ? bytes.subarray(skip) : bytes, () => rendered(end));
    },
    handle(message) {
      switch (message.type) {
        case "started":
          state = "running";
          syncSize();
          for (const data of waitingInput.splice(0)) sendStdin(data);
          options.changed();
          return;
        case "gap": {
          const to = message.to;
          notice(`${to - message.from} bytes of output were no longer buffered on the server`);
          nextOffset = Math.max(nextOffset, to);
          term.write("", () => rendered(to));
          return;
        }
        case "exit":
          end("shell exited", message);
          return;
        case "stdin.ack":
          stdinCredit.acked(message.offset);
          pumpStdin();
          return;
        case "error":
          if (state === "exited") return;
          if (state === "starting") end(`could not start a shell: ${message.code}: ${message.message}`);
          else if (message.code === "unknown_exec" || message.code === "invalid_state") end("the shell is gone");
          else notice(`${message.code}: ${message.message}`);
          return;
        default:
          return;
      }
    },
  };
}
