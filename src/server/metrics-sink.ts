import type { ConnectionSink } from "./connection-sink.ts";

/** Every serialised `error` starts so; replies are counted by code without parsing them again. */
const ERROR_PREFIX = '{"type":"error"';

/** A sink that counts the `error` messages sent through it, by code. */
export function countingErrors(sink: ConnectionSink, count: (code: string) => void): ConnectionSink {
  return {
    get closed() {
      return sink.closed;
    },
    send(text) {
      // `,"code":"` cannot occur inside the escaped id that may come before it.
      if (text.startsWith(ERROR_PREFIX)) count(/,"code":"([a-z_]+)"/.exec(text)?.[1] ?? "other");
      sink.send(text);
    },
    sendBinaryPair: (header, payload) => sink.sendBinaryPair(header, payload),
    congestion: () => sink.congestion(),
    onDrain: () => sink.onDrain(),
    onClose: () => sink.onClose(),
  };
}
