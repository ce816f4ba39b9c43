import { expect, test } from "bun:test";
import { resolveConnectOptions } from "../../src/client/connect-options.ts";
import type { WebSocketConstructor } from "../../src/client/websocket.ts";

/** A WebSocket class of browser shape (no headers) and one of `ws` shape. */
const BrowserLike = class {} as unknown as WebSocketConstructor;
const WsLike = class {
  terminate() {}
  ping() {}
} as unknown as WebSocketConstructor;

test("offers bunker.v1 and sends the token as a Bearer header where the class takes headers", () => {
  expect(resolveConnectOptions("ws://h:1/ws", { token: "tok", WebSocket: WsLike })).toMatchObject({
    url: "ws://h:1/ws",
    protocols: ["bunker.v1"],
    headers: { authorization: "Bearer tok" },
    headerStyle: "ws",
  });
});

test("Bun's global WebSocket takes headers too", () => {
  expect(resolveConnectOptions("ws://h:1/ws", { token: "tok" })).toMatchObject({ headers: { authorization: "Bearer tok" }, headerStyle: "bun" });
});

test("a browser-shaped class gets the token as a subprotocol beside bunker.v1", () => {
  expect(resolveConnectOptions("ws://h:1/ws", { token: "tok", WebSocket: BrowserLike })).toMatchObject({
    protocols: ["bunker.v1", "bunker.token.tok"],
    headers: {},
    headerStyle: "none",
  });
  expect(resolveConnectOptions("ws://h:1/ws", { token: "tok", tokenVia: "subprotocol", WebSocket: WsLike }).protocols).toEqual(["bunker.v1", "bunker.token.tok"]);
});

test("a resume puts the session id in the query and the secret in a subprotocol", () => {
  const resolved = resolveConnectOptions("ws://h:1/ws", { resume: { session: "abc", secret: "s3cr3t" }, WebSocket: BrowserLike });
  expect(resolved.url).toBe("ws://h:1/ws?session=abc");
  expect(resolved.protocols).toEqual(["bunker.v1", "bunker.resume.s3cr3t"]);
});

test("a name goes in the query", () => {
  expect(resolveConnectOptions("wss://h/ws", { name: "build", WebSocket: BrowserLike }).url).toBe("wss://h/ws?name=build");
});

test("misuse is a TypeError that quotes the value but never a secret", () => {
  expect(() => resolveConnectOptions("http://h/ws", {})).toThrow(new TypeError('connect: "http://h/ws" is not a ws: or wss: URL'));
  expect(() => resolveConnectOptions("nope", {})).toThrow(new TypeError('connect: "nope" is not a URL'));
  expect(() => resolveConnectOptions("ws://h/ws", { name: "a", resume: { session: "b", secret: "c" } })).toThrow(TypeError);
  expect(() => resolveConnectOptions("ws://h/ws", { token: "tok", tokenVia: "header", WebSocket: BrowserLike })).toThrow(
    new TypeError('connect: this WebSocket class cannot send headers; use tokenVia: "subprotocol"'),
  );
  const secret = "has space";
  expect(() => resolveConnectOptions("ws://h/ws", { token: secret, WebSocket: BrowserLike })).toThrow(
    new TypeError("connect: the token holds characters a subprotocol cannot carry; send it as a header"),
  );
});

test("connectTimeoutMs defaults to 30 s and keepalive to a ping after 15 s of silence with 10 s for an answer", () => {
  expect(resolveConnectOptions("ws://h/ws", { WebSocket: BrowserLike })).toMatchObject({ connectTimeoutMs: 30_000, keepalive: { idleMs: 15_000, timeoutMs: 10_000 } });
  expect(resolveConnectOptions("ws://h/ws", { WebSocket: BrowserLike, keepalive: true }).keepalive).toEqual({ idleMs: 15_000, timeoutMs: 10_000 });
});

test("connectTimeoutMs 0 waits forever, keepalive false never pings, and a partial keepalive keeps the other default", () => {
  const resolved = resolveConnectOptions("ws://h/ws", { WebSocket: BrowserLike, connectTimeoutMs: 0, keepalive: false });
  expect({ connectTimeoutMs: resolved.connectTimeoutMs, keepalive: resolved.keepalive }).toEqual({ connectTimeoutMs: 0, keepalive: undefined });
  expect(resolveConnectOptions("ws://h/ws", { WebSocket: BrowserLike, keepalive: { idleMs: 5000 } }).keepalive).toEqual({ idleMs: 5000, timeoutMs: 10_000 });
  expect(resolveConnectOptions("ws://h/ws", { WebSocket: BrowserLike, keepalive: { timeoutMs: 1 } }).keepalive).toEqual({ idleMs: 15_000, timeoutMs: 1 });
});

test("a timeout that is not a whole number of milliseconds a timer can wait is a TypeError quoting it", () => {
  const range = (name: string, min: number, got: string) =>
    new TypeError(`connect: ${name} must be an integer number of milliseconds from ${min} to 2147483647, got ${got}`);
  const resolve = (options: Parameters<typeof resolveConnectOptions>[1]) => () => resolveConnectOptions("ws://h/ws", { WebSocket: BrowserLike, ...options });
  expect(resolve({ connectTimeoutMs: -1 })).toThrow(range("connectTimeoutMs", 0, "-1"));
  expect(resolve({ connectTimeoutMs: 1.5 })).toThrow(range("connectTimeoutMs", 0, "1.5"));
  expect(resolve({ connectTimeoutMs: Infinity })).toThrow(range("connectTimeoutMs", 0, "Infinity"));
  expect(resolve({ connectTimeoutMs: 2 ** 31 })).toThrow(range("connectTimeoutMs", 0, "2147483648"));
  expect(resolve({ connectTimeoutMs: "30s" as unknown as number })).toThrow(range("connectTimeoutMs", 0, '"30s"'));
  expect(resolve({ keepalive: { idleMs: 0 } })).toThrow(range("keepalive.idleMs", 1, "0"));
  expect(resolve({ keepalive: { timeoutMs: NaN } })).toThrow(range("keepalive.timeoutMs", 1, "NaN"));
  expect(resolve({ keepalive: "on" as unknown as boolean })).toThrow(new TypeError('connect: keepalive must be true, false or { idleMs, timeoutMs }, got "on"'));
});

test("detachTtlMs goes in the query; less than a second, or not a whole number, is a TypeError", () => {
  expect(resolveConnectOptions("ws://h:1/ws", { detachTtlMs: 60_000, WebSocket: BrowserLike }).url).toBe("ws://h:1/ws?detachTtlMs=60000");
  for (const bad of [999, 1500.5, Number.NaN]) {
    expect(() => resolveConnectOptions("ws://h:1/ws", { detachTtlMs: bad, WebSocket: BrowserLike })).toThrow(TypeError);
  }
});
