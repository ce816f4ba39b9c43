// An agent's long session: many execs on one socket. What the session remembers of its finished
// execs is bounded by count (10,000), by kept output (8 MiB) and by the size of their requests.
import { afterAll, expect, test } from "bun:test";
import { connect, type Session } from "../../src/client/index.ts";
import { heapStats } from "bun:jsc";
import { createConditions } from "../helpers/conditions.ts";
import { startServer } from "../helpers/server-process.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

/** This process's JavaScript heap after a full collection. */
function heapSize(): number {
  Bun.gc(true);
  return heapStats().heapSize;
}

/** Runs `count` execs of `argv`, `parallel` at a time, each read to its exit. */
async function runMany(session: Session, count: number, argv: string[], parallel = 8): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const handle = session.exec(argv);
      const [, , exit] = await Promise.all([handle.stdout.readAll(), handle.stderr.readAll(), handle.exited]);
      expect(exit.code).toBe(0);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

// A session remembers finished execs up to 10,000 and up to 8 MiB of their requests: commands that
// total tens of MB (an agent writing files through heredocs) must not make `list` or a resumed
// `hello` one frame too big for the socket (it was closed with 4008), nor grow the server.
test("list and resume keep the socket open when the session ran large commands, which it forgets oldest first", async () => {
  const session = await connect(server.url, { token: server.token! });
  const big = "x".repeat(120_000);
  await runMany(session, 60, ["true", ...Array.from({ length: 8 }, () => big)], 4);
  const listed = await session.list();
  // About 8 of the 60 (each request is ~960 kB), the newest ones.
  expect(listed.length).toBeGreaterThan(0);
  expect(listed.length).toBeLessThan(12);
  const stillOpen = session.exec(["echo", "still open"]);
  expect(await stillOpen.stdout.readAllText()).toBe("still open\n");
  await session.disconnect();
  const again = await connect(server.url, { token: server.token!, resume: session.resume });
  // The listed ones (less the oldest, if the last exec tipped the budget), then the last exec.
  const resumedIds = again.hello.execs.map((exec) => exec.id);
  expect(resumedIds.at(-1)).toBe(stillOpen.id);
  expect(listed.map((exec) => exec.id).slice(-(resumedIds.length - 1))).toEqual(resumedIds.slice(0, -1));
  expect(resumedIds.length).toBeGreaterThan(1);
  expect(await again.exec(["echo", "resumed"]).stdout.readAllText()).toBe("resumed\n");
  await again.close();
}, 60_000);


// An agent's session runs for hours, with `list` calls and reconnects: the client kept every exec it
// had ever been told of (`hello.execs`, `execs`), requests included, though the server forgets the
// oldest (found by a soak: ~1 MB of client heap per large command, never given back). It keeps what
// the server last said the session holds.
test.each([
  { how: "lists the execs", drop: false },
  { how: "reconnects", drop: true },
])("a session that $how holds what the server still remembers of its execs, not every exec it was told of", async ({ drop }) => {
  await using proxy = await startTcpProxy(server.port);
  const back = createConditions();
  let reconnects = 0;
  const reconnect = { onReconnected: () => (reconnects++, back.changed()) };
  await using session = await connect(`ws://127.0.0.1:${proxy.port}/ws`, { token: server.token!, reconnect });
  const big = "x".repeat(120_000);
  // Each request is ~960 kB: the server keeps about the last 8 of them.
  const round = async (i: number) => {
    await runMany(session, 1, ["true", ...Array.from({ length: 8 }, () => big)], 1);
    if (!drop) return void (await session.list());
    proxy.dropAll();
    await back.until(() => reconnects === i + 1);
  };
  await round(0);
  const before = heapSize();
  for (let i = 1; i <= 40; i++) await round(i);
  const grown = heapSize() - before;
  // 40 requests of 960 kB held: 38 MB; what the server keeps: under 9 MB.
  expect(grown).toBeLessThan(16 * 1024 * 1024);
}, 60_000);
