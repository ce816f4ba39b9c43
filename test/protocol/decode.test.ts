import { expect, test } from "bun:test";
import { CLIENT_MESSAGE_TYPES, decodeClientMessage, decodeServerMessage } from "../../src/protocol/index.ts";

test("a valid exec decodes, with unknown fields dropped for forward compatibility", () => {
  expect(decodeClientMessage(JSON.stringify({ type: "exec", id: "a", argv: ["ls"], future: 1 }))).toEqual({
    ok: true,
    message: { type: "exec", id: "a", argv: ["ls"] },
  });
});

test("problems name the field and keep the id when one is readable", () => {
  expect(decodeClientMessage(JSON.stringify({ type: "exec", id: "a", cmd: "ls", encoding: "hex" }))).toEqual({
    ok: false,
    id: "a",
    problem: 'encoding: must be "utf8", "base64" or "binary"',
  });
  expect(decodeClientMessage(JSON.stringify({ type: "stdin", id: "a", data: 5 }))).toEqual({
    ok: false,
    id: "a",
    problem: "data: expected string, got 5",
  });
  expect(decodeClientMessage('{"type":7}')).toEqual({ ok: false, problem: `type: unknown message type number; expected one of ${CLIENT_MESSAGE_TYPES.join(", ")}` });
});

test("a deeply nested value is refused without throwing", () => {
  const deep = "[".repeat(5000) + "]".repeat(5000);
  expect(decodeClientMessage(`{"type":"exec","id":"d","argv":${deep}}`).ok).toBe(false);
});

test("server messages are validated for clients", () => {
  expect(decodeServerMessage(JSON.stringify({ type: "exit", id: "a", code: 0, signal: null, reason: "exited", durationMs: 3 })).ok).toBe(true);
  expect(decodeServerMessage(JSON.stringify({ type: "exit", id: "a", code: 0, signal: null, reason: "vanished", durationMs: 3 })).ok).toBe(false);
});
