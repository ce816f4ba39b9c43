/** Idle sessions: open N sockets (each one a session today) and weigh the server's RSS per session. */
import { openBunker, type BunkerConnection } from "./lib/bunker-client.ts";
import { startBunker } from "./lib/bunker-server.ts";
import { ensureFdLimit, readRssBytes } from "./lib/proc.ts";
import { hasServeFlag } from "./lib/server-features.ts";
import { median } from "./stats.ts";
import { verdict, type BenchContext, type Benchmark, type ResultRow } from "./types.ts";

const ID = "idle";
const TARGET_BYTES_PER_SESSION = 4 * 1024;
/** Sockets opened at once: enough to be quick, few enough not to overflow the listen backlog. */
const OPEN_BATCH = 100;
/** Room for everything else a process has open besides the sockets. */
const FD_HEADROOM = 1024;

/** Opens `count` sessions, `OPEN_BATCH` at a time, each waited for until its hello. */
async function openSessions(url: string, token: string | undefined, count: number): Promise<BunkerConnection[]> {
  const sessions: BunkerConnection[] = [];
  while (sessions.length < count) {
    const batch = Math.min(OPEN_BATCH, count - sessions.length);
    sessions.push(...(await Promise.all(Array.from({ length: batch }, () => openBunker(url, token)))));
  }
  return sessions;
}

async function runRound(context: BenchContext, count: number, args: string[]): Promise<number> {
  await using server = await startBunker(context, { args });
  // One session first, so that what every server pays once (the first upgrade, the workspace code) is in the baseline.
  const first = await openBunker(server.url, server.token);
  await Bun.sleep(200);
  const before = readRssBytes(server.pid);
  const sessions = await openSessions(server.url, server.token, count);
  await Bun.sleep(500);
  const after = readRssBytes(server.pid);
  await Promise.all([first, ...sessions].map((session) => session.close()));
  return (after - before) / count;
}

async function run(context: BenchContext): Promise<ResultRow[]> {
  const count = context.quick ? 1000 : 5000;
  const limit = await ensureFdLimit(count + FD_HEADROOM);
  if (limit < count + FD_HEADROOM) throw new Error(`open-file limit is ${limit}, and ${count + FD_HEADROOM} are needed (ulimit -n)`);
  // Servers that cap the sessions they hold (default 1000) are asked for room for all of them.
  const args = [
    ...((await hasServeFlag(context, "--max-sessions")) ? ["--max-sessions", String(count + 1)] : []),
    // Every socket of the bench comes from one address.
    ...((await hasServeFlag(context, "--max-connections-per-address")) ? ["--max-connections-per-address", String(count + 1)] : []),
  ];
  const rounds = context.quick ? 1 : 3;
  const perSession: number[] = [];
  for (let round = 0; round < rounds; round++) {
    perSession.push(await runRound(context, count, args));
    context.log(`idle: round ${round + 1}/${rounds} done`);
  }
  const bytes = median(perSession);
  return [
    {
      bench: ID,
      what: `${count} idle sessions (one socket each): server RSS per session`,
      measured: `${(bytes / 1024).toFixed(1)} KiB (median of ${rounds}: ${perSession.map((value) => (value / 1024).toFixed(1)).join(", ")}); open-file limit ${limit}`,
      beside: "",
      target: "≤ 4 KiB",
      result: verdict(bytes <= TARGET_BYTES_PER_SESSION),
    },
  ];
}

export const idleSessions: Benchmark = {
  id: ID,
  method: [
    "**Idle sessions.** One server (default sandbox detection); one session opened first so that one-time costs",
    "fall in the baseline; then 5,000 WebSockets opened 100 at a time from the benchmark process, each waited for",
    "until its `hello` (so its session and workspace directory exist). Per session: (server `VmRSS` 0.5 s after the",
    "last `hello` − `VmRSS` before) / 5,000; median of 3 servers. The benchmark raises its own open-file limit with",
    "`prlimit` when it is below 5,000 + 1,024, and the server inherits it; a server with `--max-sessions` gets",
    "room for all of them. Each connection is a new session here (none is resumed).",
  ].join("\n"),
  run,
};
