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
