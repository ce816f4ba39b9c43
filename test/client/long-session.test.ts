// An agent's long session: many execs on one socket. What the session remembers of its finished
// execs is bounded by count (10,000), by kept output (8 MiB) and by the size of their requests.
import { afterAll, expect, test } from "bun:test";
import { connect, type Session } from "../../src/client/index.ts";
import { startServer } from "../helpers/server-process.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

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

