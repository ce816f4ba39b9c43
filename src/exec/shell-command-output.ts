import type { OutputStream } from "../protocol/index.ts";
import type { ExecLogs } from "./run-exec.ts";
import { takeWithinBudget, type OutputBudget } from "./output-pump.ts";
import { MarkerScanner, TrailerReader, type ShellTrailer } from "./shell-marker.ts";

interface StreamSide {
  readonly scanner: MarkerScanner;
  /** Set once the marker has passed on stdout: the status and cwd follow. */
  trailerReader: TrailerReader | undefined;
  /** Everything of this command on this stream has been taken (the marker, and on stdout the trailer). */
  done: boolean;
  /** The shell's stream ended before the marker: the shell is gone. */
  ended: boolean;
}

/**
 * One command's share of the shell's two streams: its bytes go to its own logs, up to the marker
 * (and, on stdout, the status and cwd after it). What follows belongs to the next command, so
 * `take` says how much of each chunk it used. Output past `maxOutputBytes` (both streams together)
 * is read and dropped, and `onLimit` is called.
 */
export class ShellCommandOutput {
  readonly #into: ExecLogs;
  readonly #budget: OutputBudget;
  readonly #sides: Record<OutputStream, StreamSide>;
  #trailer: ShellTrailer | undefined;

  constructor(marker: string, into: ExecLogs, maxOutputBytes: number, onLimit: () => void) {
    this.#into = into;
    this.#budget = { remaining: maxOutputBytes, onExhausted: onLimit };
    const side = (): StreamSide => ({ scanner: new MarkerScanner(marker), trailerReader: undefined, done: false, ended: false });
    this.#sides = { stdout: side(), stderr: side() };
  }

  /** Whether this command still reads from `stream`. */
  wants(stream: OutputStream): boolean {
    const side = this.#sides[stream];
    return !side.done && !side.ended;
  }

  /** Both markers have passed: the command is over and the shell waits for the next. */
  get complete(): boolean {
    return this.#sides.stdout.done && this.#sides.stderr.done;
  }

  /** Both streams are over, at least one of them without a marker: the shell ended during the command. */
  get shellEnded(): boolean {
    const { stdout, stderr } = this.#sides;
    return (stdout.done || stdout.ended) && (stderr.done || stderr.ended) && (stdout.ended || stderr.ended);
  }

  /** The status and cwd the shell reported, once the stdout marker has passed. */
  get trailer(): ShellTrailer | undefined {
    return this.#trailer;
  }

  /** Undefined when `stream` may be read now; otherwise settles when the command's log has room. */
  waitForRoom(stream: OutputStream): Promise<void> | undefined {
    // Past the limit, bytes are dropped: reading on is what lets the command die promptly.
    if (this.#budget.remaining <= 0) return undefined;
    return this.#into[stream].waitForRoom();
  }

  /** Bytes of `stream` that are the command's without passing the scan (the shell's output before it was ready). */
  prepend(stream: OutputStream, bytes: Uint8Array): void {
    this.#emit(stream, bytes);
  }

  /** Takes a chunk of the shell's `stream`; returns how many of its bytes were this command's. */
  take(stream: OutputStream, bytes: Uint8Array): number {
    const side = this.#sides[stream];
    if (side.trailerReader) return this.#takeTrailer(side, bytes);
    const scan = side.scanner.feed(bytes);
    this.#emit(stream, scan.before);
    if (scan.consumed === undefined) return bytes.length;
    if (stream === "stderr") {
      side.done = true;
      return scan.consumed;
    }
    side.trailerReader = new TrailerReader();
    return scan.consumed + this.#takeTrailer(side, bytes.subarray(scan.consumed));
  }

  /** The shell's `stream` ended: bytes held back as a possible marker were the command's after all. */
  end(stream: OutputStream): void {
    const side = this.#sides[stream];
    if (side.done || side.ended) return;
    side.ended = true;
    if (!side.trailerReader) this.#emit(stream, side.scanner.flush());
  }

  /** Ends both of the command's logs; returns their sizes. */
  finish(): { stdout: number; stderr: number } {
    this.#into.stdout.finish();
    this.#into.stderr.finish();
    return { stdout: this.#into.stdout.end, stderr: this.#into.stderr.end };
  }

  #takeTrailer(side: StreamSide, bytes: Uint8Array): number {
    if (bytes.length === 0) return 0;
    const { consumed, trailer } = side.trailerReader!.feed(bytes);
    if (trailer) {
      this.#trailer = trailer;
      side.done = true;
    }
    return consumed;
  }

  #emit(stream: OutputStream, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#budget.remaining <= 0) return;
    this.#into[stream].append(takeWithinBudget(bytes, this.#budget));
  }
}
