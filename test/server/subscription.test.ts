import { expect, test } from "bun:test";
import { OutputLog } from "../../src/exec/output-log.ts";
import type { ConnectionSink } from "../../src/server/connection-sink.ts";
import { Subscription } from "../../src/server/subscription.ts";

/** What a subscription sends for one exec's logs, parsed; the sink never congests. */
function subscribe(logs: { stdout: OutputLog; stderr: OutputLog }, ackWindowBytes?: number) {
  const messages: { type: string; data?: string; offset?: number; bytes?: number }[] = [];
  const sink: ConnectionSink = {
    closed: false,
    send: (text) => messages.push(JSON.parse(text)),
    sendBinaryPair: () => {},
    congestion: () => undefined,
    onDrain: () => {},
    onClose: () => {},
  };
  const exec = {
    id: "e",
    logs,
    exitMessage: () => (logs.stdout.ended && logs.stderr.ended ? { type: "exit" as const, id: "e", code: 0, signal: null, reason: "exited" as const, durationMs: 1 } : undefined),
  };
  const subscription = new Subscription(exec, sink, { encoding: "utf8", ackWindowBytes, from: { stdout: 0, stderr: 0 } });
  for (const log of Object.values(logs)) log.onChange = () => subscription.flush();
  return Object.assign(messages, { subscription });
}

// Found by a review: the rest of a cut character was read from one log chunk only, so a character
// cut across three reads (a large read ending in its first byte, a one-byte read, a large read
// starting with its last) stalled the stream there for good: no more output, no exit.
test("a UTF-8 character cut across three log chunks is sent whole, then the rest and the exit", () => {
  const logs = { stdout: new OutputLog(1 << 20, true), stderr: new OutputLog(1 << 20, true) };
  const messages = subscribe(logs);
  const before = new Uint8Array(20_000).fill(0x61);
  before[19_999] = 0xe2;
  const after = new Uint8Array(20_000).fill(0x62);
  after[0] = 0xac;
  logs.stdout.append(before, true);
  logs.stdout.append(Uint8Array.of(0x82), true);
  logs.stdout.append(after, true);
  logs.stdout.finish();
  logs.stderr.finish();
  const text = messages.filter((m) => m.type === "output").map((m) => m.data).join("");
  expect(text).toBe(`${"a".repeat(19_999)}€${"b".repeat(19_999)}`);
  expect(messages.at(-1)!.type).toBe("exit");
});

test("a viewer's subscription never paces the command: with a congested viewer alone the log runs free, with any other client it waits", () => {
  const paced = (viewer: boolean) => {
    const logs = { stdout: new OutputLog(8), stderr: new OutputLog(8) };
    // A sink that never takes anything: its subscription stays at offset 0.
    const sink: ConnectionSink = {
      closed: false,
      viewer,
      send: () => {},
      sendBinaryPair: () => {},
      congestion: () => new Promise<void>(() => {}),
      onDrain: () => {},
      onClose: () => {},
    };
    const exec = { id: "e", logs, exitMessage: () => undefined };
    new Subscription(exec, sink, { encoding: "utf8", ackWindowBytes: undefined, from: { stdout: 0, stderr: 0 } });
    logs.stdout.append(new Uint8Array(20));
    return logs.stdout.waitForRoom() !== undefined;
  };
  expect(paced(false)).toBe(true);
  expect(paced(true)).toBe(false);
});

// Found by a review: the cut character was joined with up to 4 bytes and every complete character
// in them went out: "€x" against a window of 1, 4 bytes where the window allowed 1.
test("with an ack window smaller than a character, the one character goes out and nothing after it", () => {
  const logs = { stdout: new OutputLog(1 << 20, true), stderr: new OutputLog(1 << 20, true) };
  const messages = subscribe(logs, 1);
  logs.stdout.append(new TextEncoder().encode("é€x"), true);
  const outputs = () => messages.filter((m) => m.type === "output").map((m) => [m.offset, m.data]);
  expect(outputs()).toEqual([[0, "é"]]);
  messages.subscription.ack("stdout", 2);
  expect(outputs()).toEqual([[0, "é"], [2, "€"]]);
  messages.subscription.ack("stdout", 5);
  expect(outputs()).toEqual([[0, "é"], [2, "€"], [5, "x"]]);
});
