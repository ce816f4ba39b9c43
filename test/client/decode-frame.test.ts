import { describe, expect, test } from "bun:test";
import { createBinaryFramePairer, decodeServerText } from "../../src/client/decode-frame.ts";
import { decodeOutputHeader, encodeOutputHeader, PADDED_HEADER_BYTES } from "../../src/protocol/index.ts";

describe("decodeServerText", () => {
  test("decodes a message the schemas accept", () => {
    expect(decodeServerText('{"type":"started","id":"a","pid":7}')).toEqual({ kind: "message", message: { type: "started", id: "a", pid: 7 } });
  });

  test("drops fields it does not know, as v1 clients must", () => {
    expect(decodeServerText('{"type":"started","id":"a","pid":7,"later":true}')).toEqual({ kind: "message", message: { type: "started", id: "a", pid: 7 } });
  });

  test("takes the hello of an older server, whose sandbox policy has no denyRead", () => {
    const policy = { seccomp: true, allowRead: [], allowWrite: [], protect: [".git/hooks"], rlimits: {} };
    const hello = {
      type: "hello",
      protocol: 1,
      version: "0.1.0",
      resumed: false,
      session: "s".repeat(22),
      resumeSecret: "r".repeat(32),
      connection: "c".repeat(12),
      workspace: "/w",
      host: "h",
      sandbox: { backend: "bwrap", policy },
      execs: [],
    };
    const decoded = decodeServerText(JSON.stringify(hello));
    expect(decoded.kind === "message" ? decoded.message.type : decoded).toBe("hello");
  });

  test("reports a message type from a later server as unknown instead of failing", () => {
    expect(decodeServerText('{"type":"weather","id":"a"}')).toEqual({ kind: "unknown", type: "weather" });
  });

  test("accepts an error code and an exit reason it does not know yet", () => {
    const error = decodeServerText('{"type":"error","id":"a","code":"too_hot","message":"later"}');
    expect(error).toEqual({ kind: "message", message: { type: "error", id: "a", code: "too_hot", message: "later" } as never });
    const exit = decodeServerText('{"type":"exit","id":"a","code":null,"signal":"SIGKILL","reason":"evicted","durationMs":3}');
    expect(exit.kind).toBe("message");
  });

  test("reports a known message that breaks its schema as a violation that names the field", () => {
    expect(decodeServerText('{"type":"started","id":"a","pid":"seven"}')).toEqual({ kind: "violation", problem: "pid: expected number, got \"seven\"" });
    expect(decodeServerText("not json").kind).toBe("violation");
  });
});

describe("createBinaryFramePairer", () => {
  const header = encodeOutputHeader({ id: "b", stream: "stderr", offset: 2 ** 40 + 5 });

  test("pairs a header frame with the payload frame after it", () => {
    const pairer = createBinaryFramePairer();
    expect(pairer.push(header)).toEqual({ kind: "pending" });
    expect(pairer.awaitingPayload).toBe(true);
    expect(pairer.push(new Uint8Array([0, 1, 255]))).toEqual({ kind: "output", header: { id: "b", stream: "stderr", offset: 2 ** 40 + 5 }, bytes: new Uint8Array([0, 1, 255]) });
    expect(pairer.awaitingPayload).toBe(false);
  });

  test("skips a header of a kind it does not know together with its payload", () => {
    const pairer = createBinaryFramePairer();
    expect(pairer.push(new Uint8Array([0x7f, 1, 2]))).toEqual({ kind: "skipped" });
    expect(pairer.push(header)).toEqual({ kind: "skipped" });
    expect(pairer.push(header)).toEqual({ kind: "pending" });
  });

  test("reports a malformed output header", () => {
    expect(createBinaryFramePairer().push(new Uint8Array([1, 0, 0]))).toEqual({ kind: "violation", problem: "a malformed output header frame" });
    // The id length says 2 bytes; only 1 follows.
    expect(createBinaryFramePairer().push(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x62]))).toEqual({ kind: "violation", problem: "a malformed output header frame" });
  });

  test("reads the header of a large chunk, padded to PADDED_HEADER_BYTES, ignoring the padding", () => {
    const padded = encodeOutputHeader({ id: "b", stream: "stdout", offset: 7 }, 64 * 1024);
    expect(padded.byteLength).toBe(PADDED_HEADER_BYTES);
    expect(encodeOutputHeader({ id: "b", stream: "stdout", offset: 7 }, 100).byteLength).toBe(12);
    const pairer = createBinaryFramePairer();
    expect(pairer.push(padded)).toEqual({ kind: "pending" });
    expect(pairer.push(new Uint8Array([9]))).toEqual({ kind: "output", header: { id: "b", stream: "stdout", offset: 7 }, bytes: new Uint8Array([9]) });
  });
});

test("a binary header keeps an id that starts with a byte-order mark (a decoder drops it by default)", () => {
  expect(decodeOutputHeader(encodeOutputHeader({ id: "\uFEFFx", stream: "stdout", offset: 5 }))).toEqual({ id: "\uFEFFx", stream: "stdout", offset: 5 });
});
