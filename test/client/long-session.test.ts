// An agent's long session: thousands of execs on one socket. What the session remembers of its
// finished execs is bounded by count (10,000) and by kept output (8 MiB); these check the rest.
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect, type Session } from "../../src/client/index.ts";
import { startServer } from "../helpers/server-process.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

/** The server's resident memory, in bytes. */
function serverRssBytes(): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))![1]) * 1024;
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

// BUG (server: src/server/session.ts execInfos and hello; src/server/connection-sink.ts): the
// records of finished execs are bounded by count, not by size, and each keeps its whole argv or cmd
// (twice: the request and its serialised fingerprint in src/server/exec-record.ts). `execs` (the
// reply to `list`) and a resumed `hello` carry every record in one frame; past 32 MiB queued, the
// sink closes the socket with 4008. So after commands totalling some tens of MB (an agent writing
// files through heredocs), `list` costs the connection and every resume is closed right after its
// hello. Measured: 700 execs with a 120 kB cmd each: list answered, then close 4008; the resume
// got a hello with 700 execs, then 4008 after 280 ms, every time. Server RSS grew 0.29 MB per
// such exec (+427 MB after 1,500). Fix: keep a digest instead of the fingerprint string; count
// argv/cmd bytes into the session's retention (forgetting the oldest finished records past a
// budget, or truncating their argv/cmd in ExecInfo); and let a single reply that the client asked
// for pass the hard cap check (compare the queue before the send, not after).
test.skip("list and resume keep the socket open when the session remembers large commands", async () => {
  const session = await connect(server.url, { token: server.token! });
  const big = "x".repeat(120_000);
  await runMany(session, 60, ["true", ...Array.from({ length: 8 }, () => big)], 4);
  expect((await session.list()).length).toBe(60);
  expect(await session.exec(["echo", "still open"]).stdout.readAllText()).toBe("still open\n");
  await session.disconnect();
  const again = await connect(server.url, { token: server.token!, resume: session.resume });
  expect(again.hello.execs.length).toBe(61);
  expect(await again.exec(["echo", "resumed"]).stdout.readAllText()).toBe("resumed\n");
  await again.close();
}, 60_000);

// BUG (server: src/exec/output-log.ts, OutputLog.append/finish): output smaller than 16 KiB is
// copied into a coalescing buffer of 4 to 64 KiB, and a finished log keeps that buffer, so each
// finished exec with a few bytes of output pins at least a page per stream while the retention
// (heldBytes) counts only the bytes. Measured over execs 1,000 to 5,000 of `echo`: 8.4 kB of server
// RSS per finished exec; with finish() replacing the last chunk by `bytes.slice()` and dropping
// the tail, 2.6 kB. A session at its 10,000 records holds about 84 MB instead of 26 MB. This test
// read 5.7 to 9.5 kB as the code is, 2.5 to 3.6 kB with that change (on a copy of the tree).
test.skip("a long session's finished execs cost the server a few kB each", async () => {
  const session = await connect(server.url, { token: server.token! });
  await runMany(session, 1000, ["echo", "warm"]);
  const before = serverRssBytes();
  await runMany(session, 2000, ["echo", "hi"]);
  const perExecBytes = (serverRssBytes() - before) / 2000;
  expect(perExecBytes).toBeLessThan(5 * 1024);
  await session.close();
}, 120_000);
