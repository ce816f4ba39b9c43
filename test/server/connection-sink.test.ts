// The sink's hard cap (32 MiB queued for a client that reads nothing) closes the socket, and Bun runs
// the close handler inside ws.close(): the socket leaves its session there. Inside a send that would
// re-enter whoever was sending (the stdin ledger handed room out twice that way), so the close comes
// after the send has returned.
import { expect, test } from "bun:test";
import type { ServerWebSocket } from "bun";
import { createConnectionSink, HARD_LIMIT_BYTES } from "../../src/server/connection-sink.ts";

test("a send past the hard cap marks the sink closed at once and closes the socket only after the send returns", async () => {
  const events: string[] = [];
  let buffered = 0;
  const ws = {
    send: () => {
      buffered = HARD_LIMIT_BYTES + 1;
      return 1;
    },
    getBufferedAmount: () => buffered,
    close: (code: number) => void events.push(`close ${code}`),
  } as unknown as ServerWebSocket<unknown>;
  const sink = createConnectionSink(ws);
  sink.send('{"type":"pong"}');
  events.push("send returned");
  expect(sink.closed).toBe(true);
  // Closed: later sends are dropped, and what waited for room goes on.
  sink.send('{"type":"pong"}');
  expect(sink.congestion()).toBeUndefined();
  await Promise.resolve();
  expect(events).toEqual(["send returned", "close 4008"]);
});

// The liveness sweep compares handedBytes with the socket's queue, which counts UTF-8 bytes: counted
// by string length, a slow reader of non-ASCII text seemed to take less than it did.
test("handedBytes counts text by its UTF-8 size, as the socket's queue does", () => {
  const ws = { send: () => 1, getBufferedAmount: () => 0, close: () => {} } as unknown as ServerWebSocket<unknown>;
  const sink = createConnectionSink(ws);
  const text = '{"type":"output","data":"日本語 ✓ 🎉"}';
  sink.send(text);
  expect(sink.handedBytes).toBe(Buffer.byteLength(text));
  expect(sink.handedBytes).toBeGreaterThan(text.length);
});
