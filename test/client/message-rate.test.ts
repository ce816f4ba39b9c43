// The client library keeps to the server's message rate and file-request queue: ordinary code (a
// loop of awaited calls, a Promise.all) must never get its socket closed with 4029 or a request
// refused with limit_exceeded.
import { afterAll, expect, test } from "bun:test";
import { connect } from "../../src/client/index.ts";
import { startServer } from "../helpers/server-process.ts";

/** A low rate, so that the tests pass it within a second or two. */
const RATE = 200;
const server = await startServer({ args: ["--max-messages-per-second", String(RATE)] });
afterAll(() => server[Symbol.asyncDispose]());
const open = () => connect(server.url, { token: server.token! });

test("hello says the server's message rate", async () => {
  await using session = await open();
  expect(session.hello.maxMessagesPerSecond).toBe(RATE);
});

test("a loop of awaited stdin writes, far past the rate, keeps the socket and delivers every line", async () => {
  await using session = await open();
  const count = RATE * 3;
  const handle = session.exec(["wc", "-l"], { stdin: true });
  for (let i = 0; i < count; i++) await handle.write(`line ${i}\n`);
  await handle.end();
  expect((await handle.stdout.readAllText()).trim()).toBe(String(count));
  expect((await handle.exited).code).toBe(0);
});

test("a loop of awaited files.stat calls past the rate keeps the socket", async () => {
  await using session = await open();
  const count = RATE * 3;
  let answered = 0;
  for (let i = 0; i < count; i++) if ((await session.files.stat(".")).type === "directory") answered++;
  expect(answered).toBe(count);
});

test("a Promise.all of 400 files.stat calls: none refused by the server's queue of 256, the socket kept", async () => {
  await using session = await open();
  const results = await Promise.allSettled(Array.from({ length: 400 }, () => session.files.stat(".")));
  const refused = results.filter((result) => result.status === "rejected").map((result) => String((result as PromiseRejectedResult).reason));
  expect(refused).toEqual([]);
});

test("the keepalive's ping goes ahead of a queue the server never answers, so a live socket is not taken for dead", async () => {
  await using session = await connect(server.url, { token: server.token!, keepalive: { idleMs: 200, timeoutMs: 1000 } });
  const handle = session.exec(["sleep", "30"], { pty: { cols: 80, rows: 24 } });
  await handle.started;
  // Far more than the rate lets out within the keepalive's timeout (about three seconds of them):
  // behind them, the ping would go out after its deadline.
  for (let i = 0; i < RATE * 3; i++) handle.resize({ cols: 80 + (i % 40), rows: 24 });
  const outcome = await Promise.race([session.closed.then((closed) => `closed ${closed.code} ${closed.reason}`), Bun.sleep(2500).then(() => "open")]);
  expect(outcome).toBe("open");
  handle.signal("SIGKILL");
  await handle.exited;
});

test("watches opened beside 400 stats take their places in the server's queue: no stat is refused", async () => {
  // At the default rate the stats reach the server faster than it answers them, and its queue fills.
  await using fast = await startServer();
  await using session = await connect(fast.url, { token: fast.token! });
  const stats = Promise.allSettled(Array.from({ length: 400 }, () => session.files.stat(".")));
  // More than the 32 a connection may hold open: those past it may be refused, the stats never.
  const watches = await Promise.allSettled(Array.from({ length: 40 }, async () => (await session.files.watch(".")).close()));
  const refusedStats = (await stats).filter((result) => result.status === "rejected").map((result) => String((result as PromiseRejectedResult).reason));
  expect(refusedStats).toEqual([]);
  const refusedWatches = watches.filter((result) => result.status === "rejected").map((result) => (result as PromiseRejectedResult).reason.code);
  expect(refusedWatches.filter((code) => code !== "limit_exceeded")).toEqual([]);
});

test("a stdin write waits for the messages queued before it, not for a file scan that keeps the queue full", async () => {
  await using session = await open();
  const handle = session.exec(["cat"], { stdin: true });
  await handle.started;
  let statsDone = 0;
  const scan = Promise.all(Array.from({ length: RATE * 4 }, () => session.files.stat(".").then(() => statsDone++)));
  await handle.write("tag\n");
  // Handed to the socket long before the scan (four seconds' worth at this rate) is over.
  expect(statsDone).toBeLessThan(RATE * 2);
  await scan;
  await handle.end();
  expect(await handle.stdout.readAllText()).toBe("tag\n");
});
