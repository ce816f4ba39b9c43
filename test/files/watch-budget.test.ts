/**
 * Every directory a watch follows is an inotify watch made by the server, charged to its uid
 * host-wide (fs.inotify.max_user_watches, 192536 here): one connection's 32 recursive watches of
 * 4096 directories each took 131072 of root's, two connections all of them (measured: 8 watches,
 * 32768 inotify watches in the server's one inotify instance). A session and the server now have a
 * budget of watched directories (src/files/watch-budget.ts).
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { createWatchBudget, MAX_WATCHED_DIRECTORIES_PER_SERVER, MAX_WATCHED_DIRECTORIES_PER_SESSION, serverWatchLimit } from "../../src/files/watch-budget.ts";
import { connect } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startServer } from "../helpers/server-process.ts";

/** The inotify watches process `pid` holds, over all its inotify instances (from /proc/<pid>/fdinfo). */
function inotifyWatches(pid: number): number {
  let watches = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = "";
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== "anon_inode:inotify") continue;
    watches += readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8").split("\n").filter((line) => line.startsWith("inotify wd:")).length;
  }
  return watches;
}

describe.skipIf(noBwrap)("watched directories have a budget per session", () => {
  test("a recursive watch past the session's budget is limit_exceeded, the server holds no more inotify watches than the budget, and an unwatch gives them back", async () => {
    // The workspaces on tmpfs: the trees are 20,000 directories, which matter here only as inotify
    // watches, and which this machine's ext4 made and removed slowly (the test took 28 s in CI, 16 s
    // on tmpfs here; most of what is left is the server watching 16,384 directories, ~0.56 ms each).
    const workspaceRoot = mkdtempSync(join("/dev/shm", "bunker-watch-budget-"));
    chmodSync(workspaceRoot, 0o711);
    await using cleanup = { [Symbol.asyncDispose]: async () => rmSync(workspaceRoot, { recursive: true, force: true }) };
    await using server = await startServer({ args: ["--sandbox", "bwrap"], workspaceRoot });
    await using client = await connect(server);
    const trees = Math.floor(MAX_WATCHED_DIRECTORIES_PER_SESSION / 4096) + 1;
    // A command makes the trees: each 4096 directories (the top and 4095 below), what one watch follows at most.
    const made = await client.exec({ id: "trees", argv: ["perl", "-e", `for my $t (1..${trees}) { mkdir "t$t" or die; mkdir "t$t/d$_" or die for 1..4095 }`] });
    expect(made.exit).toMatchObject({ code: 0, reason: "exited" });
    const reply = async (message: Record<string, unknown> & { id: string }) => {
      client.send(message);
      return client.next((m: ServerMessage) => "id" in m && m.id === message.id && m.type !== "file.watch.events");
    };
    for (let tree = 1; tree < trees; tree++) {
      expect(await reply({ type: "file.watch", id: `w${tree}`, path: `t${tree}`, recursive: true })).toEqual({ type: "file.watch.ready", id: `w${tree}`, path: `t${tree}` });
    }
    expect(inotifyWatches(server.pid)).toBe(MAX_WATCHED_DIRECTORIES_PER_SESSION);
    expect(await reply({ type: "file.watch", id: "over", path: `t${trees}`, recursive: true })).toEqual({
      type: "error",
      id: "over",
      code: "limit_exceeded",
      message: `path: "t${trees}": this session already watches ${MAX_WATCHED_DIRECTORIES_PER_SESSION} directories, the most it may; unwatch some, or watch a smaller tree`,
    });
    expect(inotifyWatches(server.pid)).toBe(MAX_WATCHED_DIRECTORIES_PER_SESSION);
    // A second socket of the same session shares its budget.
    await using second = await connect(server, { query: { session: client.hello.session }, protocols: ["bunker.v1", `bunker.resume.${client.hello.resumeSecret}`] });
    second.send({ type: "file.watch", id: "second", path: "." });
    expect(await second.next((m: ServerMessage) => "id" in m && m.id === "second")).toMatchObject({ type: "error", code: "limit_exceeded" });
    expect(await reply({ type: "file.unwatch", id: "w1" })).toEqual({ type: "file.unwatch.result", id: "w1" });
    expect(await reply({ type: "file.watch", id: "again", path: `t${trees}`, recursive: true })).toEqual({ type: "file.watch.ready", id: "again", path: `t${trees}` });
    expect(inotifyWatches(server.pid)).toBe(MAX_WATCHED_DIRECTORIES_PER_SESSION);
  }, 120_000);
});

describe("createWatchBudget and serverWatchLimit", () => {
  test("a session's budget takes from the server's, and says which one is spent", () => {
    const serverBudget = createWatchBudget(3, "the server");
    const first = createWatchBudget(2, "this session", serverBudget);
    const second = createWatchBudget(2, "this session", serverBudget);
    expect([first.take(), first.take(), first.take()]).toEqual([undefined, undefined, expect.stringMatching(/^this session already watches 2 directories/)]);
    expect([second.take(), second.take()]).toEqual([undefined, expect.stringMatching(/^the server already watches 3 directories/)]);
    first.release(2);
    expect([serverBudget.used, second.take(), serverBudget.used]).toEqual([1, undefined, 2]);
  });

  test("the server's budget is half the host's max_user_watches where that is smaller, else the maximum", () => {
    const dir = mkdtempSync(join(tmpdir(), "bunker-watch-budget-"));
    try {
      writeFileSync(join(dir, "old-kernel"), "8192\n");
      writeFileSync(join(dir, "large"), "1048576\n");
      expect(serverWatchLimit(join(dir, "old-kernel"))).toBe(4096);
      expect(serverWatchLimit(join(dir, "large"))).toBe(MAX_WATCHED_DIRECTORIES_PER_SERVER);
      expect(serverWatchLimit(join(dir, "missing"))).toBe(MAX_WATCHED_DIRECTORIES_PER_SERVER);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
