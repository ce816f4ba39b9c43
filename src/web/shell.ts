import { StdinCredit } from "../client/stdin-credit.ts";
import { STDIN_INITIAL_CREDIT_BYTES, type ClientMessage, type ExecInfo, type ExitFactsMessage, type ServerMessage, type TerminalSize } from "../protocol/index.ts";
import { ACK_WINDOW_BYTES } from "./ack-window.ts";
import { createExecOutput } from "./exec-output.ts";
import { describeExit, formatNotice } from "./exit-text.ts";
import { SentStdin } from "./sent-stdin.ts";
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
  let sentSize: TerminalSize | undefined;
  /**
   * Output before this offset was written before the latest attach: a program's queries in it
   * (`ESC [ c`, `ESC ] 11 ; ?`, DECRQM) were answered then, or never will be usefully. The terminal
   * answers them again as it replays them, and those answers would land at today's prompt as typed
   * text, so input that could be an answer is dropped until the replay has been rendered. Every
   * answer starts with ESC; keystrokes without one (Ctrl-C into a flood after a reload, which took
   * up to two seconds to replay) go through (found by a review).
   */
  let replayEnd = 0;
  let replaying = false;
  const waitingInput: string[] = [];
  /**
   * Stdin is paced by credit from the server (`stdin.ack`'s `limit`): what the page sends stays
   * under the 8 MiB the server holds for a program that has not read it (past that a write is
   * refused and lost), so a 10 MB paste into `cat` waits here, in order, rather than losing its
   * middle. The page asks for credit as soon as its shell runs, on each socket, and the server counts
   * what earlier sockets and other writers left waiting: a page reloaded or reconnected onto a shell
   * is as exact as the one that started it (see StdinCredit).
   */
  const stdinCredit = new StdinCredit(true);
  /** Text waiting for credit, in order; `binary`: one char per byte (xterm's onBinary), sent in base64. */
  const stdinWaiting: WaitingStdin[] = [];
  /** What this page sent that the server may not have taken in, for a resume to send again. */
  let sentStdin = new SentStdin(0);
  /** The server's count of the exec's stdin at this socket's first byte; undefined where unknown. */
  let socketStart: number | undefined = 0;
  const askCredit = () => {
    if (!stdinCredit.asking && send({ type: "stdin", id, credit: true })) stdinCredit.asked();
  };
  const pumpStdin = () => {
    while (stdinWaiting.length > 0 && state === "running") {
      if (stdinCredit.unasked) askCredit();
      const next = stdinWaiting[0]!;
      const piece = takePiece(next, stdinCredit.available());
      if (!piece) {
        // Out of credit while another writer waits for room: what is left goes back.
        if (stdinCredit.contended) askCredit();
        return;
      }
      const message: ClientMessage = next.binary ? { type: "stdin", id, data: btoa(piece.data), encoding: "base64" } : { type: "stdin", id, data: piece.data };
      // A socket that is down keeps the rest for the attach after the reconnect.
      if (!send(message)) return;
      stdinCredit.sent(piece.bytes.byteLength);
      if (!next.resend) sentStdin.sent(piece.bytes);
      if (piece.data.length === next.data.length) stdinWaiting.shift();
      else next.data = next.data.slice(piece.data.length);
    }
    // Idle: credit asked back goes back, and so does what a paste grew beyond a typist's needs, which a
    // dropped socket would otherwise hold from the page's next socket until the server noticed.
    if (stdinWaiting.length === 0 && state === "running" && (stdinCredit.contended || stdinCredit.unusedBytes > STDIN_INITIAL_CREDIT_BYTES)) askCredit();
  };
  const queueStdin = (data: string, binary: boolean) => {
    stdinWaiting.push({ data, binary });
    pumpStdin();
  };
  /**
   * After a resume, what the server lacks of this page's stdin goes first, before anything still
   * waiting: bytes in flight on the dropped socket never arrived, and since the resume replaced that
   * socket (connection.ts) none of them can arrive later through it.
   */
  const resendMissing = (info: ExecInfo) => {
    // A resend that another drop cut short is superseded by this resume's count.
    while (stdinWaiting[0]?.resend) stdinWaiting.shift();
    socketStart = undefined;
    // A server that gives no count (older than ExecInfo.stdin) gets nothing again, as before.
    if (!info.stdin || info.stdin.ended || info.state !== "running") return;
    const { received } = info.stdin;
    socketStart = received;
    const missing = sentStdin.missingAfter(received);
    if (!missing) {
      console.warn(`bunker: keystrokes sent to ${id} just before the drop may be lost: the server has ${received} bytes of its stdin, which is not a count this page can resume from`);
      return;
    }
    stdinWaiting.unshift(...missing.flatMap(binaryPieces).map((data) => ({ data, binary: true, resend: true })));
  };
  const output = createExecOutput({
    term,
    sendAck: (offset) => send({ type: "ack", id, stream: "stdout", offset }),
    rendered(offset) {
      if (offset >= replayEnd) replaying = false;
    },
  });

  const notice = (text: string) => term.write(formatNotice(text));
  const end = (text: string, exit?: ExitFactsMessage) => {
    if (state === "exited") return;
    state = "exited";
    stdinWaiting.length = 0;
    sentStdin = new SentStdin(0);
    ending = exit ? `shell ${describeExit(exit)}` : text;
    notice(`${ending}; press Enter for a new shell`);
    options.changed();
  };
  const sendStdin = (data: string) => {
    for (let start = 0; start < data.length; start += MAX_STDIN_CHARS) {
      const piece = data.slice(start, start + MAX_STDIN_CHARS);
      queueStdin(piece, false);
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
      output.subscribed();
      replayEnd = info.bytes.stdout;
      replaying = replayEnd > output.nextOffset;
      send({ type: "attach", id, offsets: { stdout: output.nextOffset }, encoding: "binary", ackWindowBytes: ACK_WINDOW_BYTES });
      // Whether the last resize before the drop arrived is unknown: send the size again.
      sentSize = undefined;
      // An exec that ended while the page was away still replays its output, then its exit.
      state = "running";
      // Credit is per socket: the server counts what the old one left waiting, not the page.
      stdinCredit.restart();
      resendMissing(info);
      if (info.state === "running") {
        syncSize();
        askCredit();
      }
      pumpStdin();
      options.changed();
    },
    input(data) {
      if (replaying && data.includes("\x1b")) return;
      if (state === "starting") waitingInput.push(data);
      else if (state === "running") sendStdin(data);
    },
    inputBinary(data) {
      if (state === "running") queueStdin(data, true);
    },
    resize() {
      if (state === "running") syncSize();
    },
    output(offset, bytes) {
      output.write(offset, bytes);
    },
    handle(message) {
      switch (message.type) {
        case "started":
          state = "running";
          syncSize();
          askCredit();
          for (const data of waitingInput.splice(0)) sendStdin(data);
          options.changed();
          return;
        case "gap":
          output.gap(message.from, message.to);
          return;
        case "exit":
          end("shell exited", message);
          return;
        case "stdin.ack":
          // The command took `offset` of its stdin; the answer to `credit: true` counts this socket's.
          sentStdin.arrived(message.offset);
          if (message.received !== undefined && socketStart !== undefined) sentStdin.arrived(socketStart + message.received);
          stdinCredit.acked(message);
          pumpStdin();
          return;
        case "error":
          if (state === "exited") return;
          if (stdinCredit.takeRefusal(message.code, message.message)) {
            pumpStdin();
            return;
          }
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

/** Stdin waiting to go; `binary`: one char per byte; `resend`: bytes a resume sends again (see SentStdin). */
interface WaitingStdin {
  data: string;
  binary: boolean;
  resend?: boolean;
}

/**
 * The longest head of a waiting piece that fits in `availableBytes`, with its bytes as the server
 * counts them: the whole piece, a head cut at a character boundary, or undefined when not even one
 * character fits.
 */
function takePiece(waiting: WaitingStdin, availableBytes: number): { data: string; bytes: Uint8Array } | undefined {
  if (waiting.binary) {
    const data = waiting.data.slice(0, availableBytes);
    return data.length > 0 ? { data, bytes: Uint8Array.from(data, (char) => char.charCodeAt(0)) } : undefined;
  }
  const bytes = encoder.encode(waiting.data);
  if (bytes.byteLength <= availableBytes) return { data: waiting.data, bytes };
  if (availableBytes === 0) return undefined;
  // Pieces are at most 64 Ki characters, so this buffer stays small.
  const head = new Uint8Array(availableBytes);
  const { read, written } = encoder.encodeInto(waiting.data, head);
  return read > 0 ? { data: waiting.data.slice(0, read), bytes: head.subarray(0, written) } : undefined;
}

/** Bytes as binary stdin pieces (one char per byte) of at most MAX_STDIN_CHARS. */
function binaryPieces(bytes: Uint8Array): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < bytes.byteLength; start += MAX_STDIN_CHARS) {
    const end = Math.min(start + MAX_STDIN_CHARS, bytes.byteLength);
    let piece = "";
    // fromCharCode takes its bytes as arguments: a few thousand at a time stay far below any limit.
    for (let at = start; at < end; at += 4096) piece += String.fromCharCode(...bytes.subarray(at, Math.min(at + 4096, end)));
    pieces.push(piece);
  }
  return pieces;
}
