import { describe, expect, test } from "bun:test";
import type { ClientMessage } from "../../src/protocol/index.ts";
import { ACK_WINDOW_BYTES } from "../../src/web/ack-window.ts";
import { createViewedExec } from "../../src/web/viewed-exec.ts";

/** A terminal that records what is written and renders at once; a sender that records messages. */
function harness() {
  const written: (string | Uint8Array)[] = [];
  const sent: ClientMessage[] = [];
  const viewed = createViewedExec({
    id: "shell-1",
    term: {
      write(data, callback) {
        written.push(data);
        callback?.();
      },
    },
    send: (message) => (sent.push(message), true),
    changed: () => undefined,
  });
  const text = () => written.map((item) => (typeof item === "string" ? item : new TextDecoder().decode(item))).join("");
  return { viewed, sent, text };
}

const bytes = (text: string) => new TextEncoder().encode(text);
const attachFrom = (stdout: number): ClientMessage => ({ type: "attach", id: "shell-1", offsets: { stdout }, encoding: "binary", ackWindowBytes: ACK_WINDOW_BYTES });

describe("an exec a read-only viewer follows", () => {
  test("attaches from 0 in binary with an ack window, and after a drop from the first byte it lacks, writing each byte once", () => {
    const { viewed, sent, text } = harness();
    viewed.attach();
    expect(sent).toEqual([attachFrom(0)]);
    expect(viewed.state).toBe("running");
    viewed.output(0, bytes("hello"));
    viewed.attach();
    expect(sent.slice(1)).toEqual([attachFrom(5)]);
    // A replay that overlaps what the terminal shows already is cut to what it lacks.
    viewed.output(3, bytes("lo you"));
    expect(text()).toBe("hello you");
  });

  test("sends nothing but attach and ack: rendered output is acknowledged a quarter window at a time", () => {
    const { viewed, sent } = harness();
    viewed.attach();
    viewed.output(0, new Uint8Array(ACK_WINDOW_BYTES / 4));
    expect(sent).toEqual([attachFrom(0), { type: "ack", id: "shell-1", stream: "stdout", offset: ACK_WINDOW_BYTES / 4 }]);
  });

  test("shows a gap, then the exit without offering a new shell", () => {
    const { viewed, text } = harness();
    viewed.attach();
    viewed.handle({ type: "gap", id: "shell-1", stream: "stdout", from: 0, to: 90 });
    viewed.output(90, bytes("tail"));
    viewed.handle({ type: "exit", id: "shell-1", code: 0, signal: null, reason: "exited", durationMs: 5 });
    expect(text()).toBe("\r\n\x1b[2m[bunker] 90 bytes of output were no longer buffered on the server\x1b[0m\r\ntail\r\n\x1b[2m[bunker] shell exited with code 0\x1b[0m\r\n");
    expect(viewed.state).toBe("exited");
    expect(viewed.ending).toBe("shell exited with code 0");
  });

  test("says so when the session has no such exec, and attaches nothing", () => {
    const { viewed, sent, text } = harness();
    viewed.missing();
    expect(sent).toEqual([]);
    expect(viewed.state).toBe("exited");
    expect(text()).toContain("[bunker] the session has no exec shell-1 (any more)");
  });
});
