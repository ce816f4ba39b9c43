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

test("env must be an object of strings: an array, or a name JavaScript reserves, is refused rather than read oddly or dropped", () => {
  const decode = (env: string) => decodeClientMessage(`{"type":"exec","id":"e","argv":["env"],"env":${env}}`);
  expect(decode('["A=1","B=2"]')).toEqual({ ok: false, id: "e", problem: "env: must be an object of name: value strings" });
  for (const name of ["__proto__", "constructor", "prototype"]) {
    expect(decode(`{${JSON.stringify(name)}:"x"}`)).toEqual({ ok: false, id: "e", problem: "env: names __proto__, constructor and prototype cannot be set" });
  }
  expect(decode('{"__proto__":{"PATH":"/evil"}}')).toMatchObject({ ok: false });
  expect(decode('{"A":"1"}')).toMatchObject({ ok: true, message: { env: { A: "1" } } });
});

test("an exec id is well-formed Unicode: a lone surrogate could not be matched in a binary frame's UTF-8 header", () => {
  expect(decodeClientMessage('{"type":"exec","id":"\\ud800","argv":["true"]}')).toMatchObject({ ok: false, problem: "id: must be well-formed Unicode (no lone surrogate)" });
  expect(decodeClientMessage(JSON.stringify({ type: "exec", id: "😀".repeat(32), argv: ["true"] }))).toMatchObject({ ok: true });
});
