import type { AttachMessage, OutputEncoding, OutputStream as OutputStreamName } from "../protocol/index.ts";
import type { BunkerError } from "./errors.ts";
import type { ExecTransport } from "./exec-handle-types.ts";
import { OutputAcks } from "./output-acks.ts";
import { OutputBuffer } from "./output-stream.ts";

/** What an exec handle's output is made with. */
export interface ExecOutputInit {
  id: string;
  encoding: OutputEncoding;
  ackWindowBytes: number | undefined;
  /** The offsets the streams start at: 0, or an attach's. */
  start: Record<OutputStreamName, number>;
  transport: ExecTransport;
  /** Whether the handle still follows the exec: one that has let go acknowledges nothing more. */
  live(): boolean;
}

/**
 * An exec handle's two output streams, the acks that tell the server how far they have been read,
 * and the `attach` that goes on from the bytes they hold.
 */
export class ExecOutput {
  readonly stdout: OutputBuffer;
  readonly stderr: OutputBuffer;
  readonly #id: string;
  readonly #encoding: OutputEncoding;
  readonly #ackWindowBytes: number | undefined;

  constructor(init: ExecOutputInit) {
    this.#id = init.id;
    this.#encoding = init.encoding;
    this.#ackWindowBytes = init.ackWindowBytes;
    const acks = new OutputAcks({ id: init.id, transport: init.transport, live: init.live }, init.ackWindowBytes, init.start);
    this.stdout = new OutputBuffer("stdout", init.start.stdout, (offset) => acks.consumed("stdout", offset));
    this.stderr = new OutputBuffer("stderr", init.start.stderr, (offset) => acks.consumed("stderr", offset));
  }

  /** How `output` data of this exec is encoded in JSON: binary execs fall back to base64 there. */
  get jsonDataIsBase64(): boolean {
    return this.#encoding !== "utf8";
  }

  /** Whether the handle has an ack window, which the server holds the command to. */
  get windowed(): boolean {
    return this.#ackWindowBytes !== undefined;
  }

  stream(name: OutputStreamName): OutputBuffer {
    return name === "stdout" ? this.stdout : this.stderr;
  }

  /** Nothing more comes: the exec exited, or the handle let it go. */
  end(): void {
    this.stdout.end();
    this.stderr.end();
  }

  fail(error: BunkerError): void {
    this.stdout.fail(error);
    this.stderr.fail(error);
  }

  /** An `attach` from the bytes the streams hold, with the handle's window unless another is given. */
  attachMessage(ackWindowBytes = this.#ackWindowBytes): AttachMessage {
    return {
      type: "attach",
      id: this.#id,
      offsets: { stdout: this.stdout.offset, stderr: this.stderr.offset },
      encoding: this.#encoding,
      ...(ackWindowBytes !== undefined && { ackWindowBytes }),
    };
  }
}
