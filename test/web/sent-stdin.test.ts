import { describe, expect, test } from "bun:test";
import { MAX_PENDING_STDIN_BYTES } from "../../src/protocol/index.ts";
import { SentStdin } from "../../src/web/sent-stdin.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const joined = (views: Uint8Array[] | undefined) => (views ? new TextDecoder().decode(Buffer.concat(views)) : undefined);

describe("SentStdin", () => {
  test("gives back what was sent past the server's count, and again after a drop that lost the resend too", () => {
    const sent = new SentStdin(0);
    sent.sent(bytes("é1"));
    sent.sent(bytes("日2"));
    expect(joined(sent.missingAfter(3))).toBe("日2");
    expect(joined(sent.missingAfter(3))).toBe("日2");
    expect(joined(sent.missingAfter(7))).toBe("");
  });

  test("forgets what a stdin.ack proved arrived", () => {
    const sent = new SentStdin(0);
    sent.sent(bytes("abc"));
    sent.sent(bytes("def"));
    sent.arrived(4);
    expect(joined(sent.missingAfter(4))).toBe("ef");
    expect(sent.missingAfter(3)).toBeUndefined();
  });

  test("counts from the server's figure where it had nothing to give back: a page attached after others wrote", () => {
    const sent = new SentStdin(0);
    expect(joined(sent.missingAfter(100))).toBe("");
    sent.sent(bytes("xy"));
    expect(joined(sent.missingAfter(101))).toBe("y");
  });

  test("says it cannot be exact when the server counts bytes this page did not send, or ones it no longer keeps", () => {
    const beside = new SentStdin(0);
    beside.sent(bytes("abc"));
    expect(beside.missingAfter(10)).toBeUndefined();
    beside.sent(bytes("d"));
    expect(joined(beside.missingAfter(10))).toBe("d");

    const capped = new SentStdin(0);
    capped.sent(new Uint8Array(MAX_PENDING_STDIN_BYTES + 1));
    expect(capped.missingAfter(0)).toBeUndefined();
  });
});
