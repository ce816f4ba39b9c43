// Writes to one exec's stdin made while its last message still waits for the server's message
// rate go out with that message: a loop of awaited one-line writes no longer takes one message
// (about a millisecond at the default rate) per line, and every byte still arrives, in order.
import { afterAll, expect, test } from "bun:test";
import { connect, type ExecHandle, type Session } from "../../src/client/index.ts";
import { startServer } from "../helpers/server-process.ts";
import { readUntil } from "../helpers/read-until.ts";
import { createWireTap } from "../helpers/tapped-websocket.ts";

/** A low rate, so that the loop outruns it at once. */
const RATE = 100;
const server = await startServer({ args: ["--max-messages-per-second", String(RATE)] });
afterAll(() => server[Symbol.asyncDispose]());

/** `program` in a shell that ignores SIGUSR1 from before it starts: the tests fill the budget with that signal. */
async function startIgnoringUsr1(session: Session, program: string): Promise<ExecHandle> {
  const handle = session.exec(["sh", "-c", `trap '' USR1; echo ready >&2; exec ${program}`], { stdin: true });
  await readUntil(handle.stderr[Symbol.asyncIterator](), "ready\n");
  return handle;
}

/** Uses up the message budget, so that what the test sends next waits in the queue (and joins). */
function fillBudget(handle: ExecHandle): void {
  for (let i = 0; i < RATE * 2; i++) handle.signal("SIGUSR1");
}

const stdinMessages = (sent: readonly Record<string, unknown>[], id: string) => sent.filter((message) => message["type"] === "stdin" && message["id"] === id && message["credit"] === undefined);

test("a loop of awaited one-line writes past the rate goes out in far fewer messages, every line in order", async () => {
  const tap = createWireTap();
  await using session = await connect(server.url, { token: server.token!, tokenVia: "subprotocol", WebSocket: tap.WebSocket });
  const handle = session.exec(["cat"], { stdin: true });
  const lines = Array.from({ length: RATE * 10 }, (_, i) => `line ${i} ${"é".repeat(i % 7)}\n`);
  for (const line of lines) await handle.write(line);
  await handle.end();
  expect(await handle.stdout.readAllText()).toBe(lines.join(""));
  expect((await handle.exited).code).toBe(0);
  const messages = stdinMessages(tap.sent, handle.id);
  // One message per line without joining; with it, about what the rate lets out while the loop runs.
  expect(messages.length).toBeLessThan(lines.length / 4);
  expect(messages.filter((message) => message["eof"] === true)).toHaveLength(1);
  expect(messages.at(-1)!["eof"]).toBe(true);
});

test("a write joins only its own exec's queued message, and never one queued before a signal", async () => {
  const tap = createWireTap();
  await using session = await connect(server.url, { token: server.token!, tokenVia: "subprotocol", WebSocket: tap.WebSocket });
  // A cat that ignores the signals the test sends (an ignored signal stays ignored across exec).
  const a = session.exec(["sh", "-c", "trap '' USR1 USR2; echo ready >&2; exec cat"], { stdin: true });
  const b = session.exec(["cat"], { stdin: true });
  await Promise.all([readUntil(a.stderr[Symbol.asyncIterator](), "ready\n"), b.started]);
  // Use up the budget, so that what follows waits in the queue.
  for (let i = 0; i < RATE * 2; i++) a.signal("SIGUSR1");
  const before: Promise<void>[] = [];
  for (let i = 0; i < 20; i++) before.push(a.write(`a${i}\n`), b.write(`b${i}\n`));
  await Promise.all(before);
  // A line that waits in the queue (behind signals the budget has no room for) when the signal
  // is queued after it: what is written after the signal must not join it.
  for (let i = 0; i < 5; i++) a.signal("SIGUSR1");
  await a.write("before\n");
  a.signal("SIGUSR2");
  await a.write("after\n");
  await Promise.all([a.end(), b.end()]);
  expect(await a.stdout.readAllText()).toBe(Array.from({ length: 20 }, (_, i) => `a${i}\n`).join("") + "before\nafter\n");
  expect(await b.stdout.readAllText()).toBe(Array.from({ length: 20 }, (_, i) => `b${i}\n`).join(""));
  const decoded = (message: Record<string, unknown>) => (typeof message["data"] === "string" ? Buffer.from(message["data"], "base64").toString() : "");
  const forA = stdinMessages(tap.sent, a.id).map(decoded).join("");
  const forB = stdinMessages(tap.sent, b.id).map(decoded).join("");
  expect([/b\d/.test(forA), /a\d/.test(forB)]).toEqual([false, false]);
  // What was written after the signal went in a message after it on the wire.
  const signalAt = tap.sent.findIndex((message) => message["type"] === "signal" && message["signal"] === "SIGUSR2");
  const afterAt = tap.sent.findIndex((message) => message["type"] === "stdin" && decoded(message).includes("after"));
  expect(afterAt).toBeGreaterThan(signalAt);
  expect(decoded(tap.sent[afterAt]!).startsWith("after")).toBe(true);
});

test("a Buffer the caller reuses once its write has resolved goes out as it was when written", async () => {
  await using session = await connect(server.url, { token: server.token! });
  const handle = await startIgnoringUsr1(session, "cat");
  fillBudget(handle);
  await handle.write("first\n");
  // Buffer's own slice() is a view: a join that copied with it sent what the buffer held later.
  const reused = Buffer.from("ORIGINAL\n");
  await handle.write(reused);
  reused.write("MUTATED!\n");
  await handle.end();
  expect(await handle.stdout.readAllText()).toBe("first\nORIGINAL\n");
});

test("a loop of awaited writes that join lets timers and socket events in between", async () => {
  await using session = await connect(server.url, { token: server.token! });
  const handle = await startIgnoringUsr1(session, "wc -c");
  fillBudget(handle);
  await handle.write("x");
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  // Far less than a message holds: without a turn of the event loop per write, the whole loop
  // ran in one turn and no timer fired.
  const one = new Uint8Array([0x61]);
  for (let i = 0; i < 20_000; i++) await handle.write(one);
  const ticksDuringLoop = ticks;
  clearInterval(timer);
  await handle.end();
  expect((await handle.stdout.readAllText()).trim()).toBe("20001");
  expect(ticksDuringLoop).toBeGreaterThan(0);
});

test("a write made once disconnect() was called rejects, even while a message it could join still waits", async () => {
  await using session = await connect(server.url, { token: server.token! });
  const handle = await startIgnoringUsr1(session, "cat");
  fillBudget(handle);
  await handle.write("queued\n");
  const disconnected = session.disconnect();
  await expect(handle.write("after\n")).rejects.toMatchObject({ code: "connection_closed" });
  await disconnected;
});
