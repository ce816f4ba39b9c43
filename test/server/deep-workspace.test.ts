/**
 * A workspace that a command made deep: a chain of directories thousands of levels down, which perl
 * makes in a fraction of a second. Found by a review: the server removed an ended session's
 * workspace with Bun's rmSync, on its event loop, in time quadratic in the depth (1,500 levels held
 * every other session for 10 s, 25,000 for hours, SIGTERM unanswered), and file.remove held one
 * directory open per level (EMFILE past the server's open-file limit), and so did the measure of its
 * usage (what lay deeper went uncounted, and other sessions' opens failed meanwhile). Each now runs
 * in time linear in the tree, with one or two of its directories open at a time, off the event loop.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { connect, type TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { BUN, REPO_ROOT, startServer, type TestServer } from "../helpers/server-process.ts";

/**
 * The server's open files (its hard limit, which Bun makes its soft one too): the commands' default
 * limit, which theirs may not pass, and which a chain of DEPTH directories does not fit in.
 */
const SERVER_OPEN_FILES = 4096;
/** Deeper than SERVER_OPEN_FILES; Bun's rmSync took over a minute on a chain this deep here. */
const DEPTH = 5000;

/** argv of a command that makes a chain of `depth` directories named `a`, with `bottom` bytes in a file at its end, and prints `made`. */
function makeChain(depth: number, bottom = 0): string[] {
  const file = `open my $f, ">", "bottom" or die "open: $!"; print $f "x" x ${bottom}; close $f;`;
  return ["perl", "-e", `for (1..${depth}) { mkdir "a" or die "mkdir: $!"; chdir "a" or die "chdir: $!" } ${file} print "made\\n"`];
}

describe.skipIf(noBwrap)("a chain of directories thousands deep in a workspace", () => {
  let server: TestServer;
  let bystander: TestClient;
  beforeAll(async () => {
    server = await startServer({
      command: ["prlimit", `--nofile=${SERVER_OPEN_FILES}`, BUN, join(REPO_ROOT, "src", "main.ts")],
      args: ["--sandbox", "bwrap"],
    });
    bystander = await connect(server);
  });
  afterAll(async () => {
    await bystander?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
  });

  test("goes when its session ends while other sessions are served, and `closed` comes once it is gone", async () => {
    await using deep = await connect(server);
    const made = await deep.exec({ id: "chain", argv: makeChain(DEPTH) });
    expect(made.stdout).toBe("made\n");
    deep.send({ type: "close" });
    // Sent once the close is under way: it must not wait for the removal.
    bystander.send({ type: "exec", id: "meanwhile", argv: ["echo", "served"] });
    const order: string[] = [];
    const ran = bystander.runToExit("meanwhile").then((run) => {
      order.push("bystander exit");
      return run;
    });
    await deep.next((message) => message.type === "closed");
    order.push("closed");
    expect((await ran).stdout).toBe("served\n");
    expect(order).toEqual(["bystander exit", "closed"]);
    expect(existsSync(deep.hello.workspace)).toBe(false);
    expect((await deep.closed).code).toBe(4000);
  });

  test("is counted whole by the workspace's usage, deeper than the server's open-file limit", async () => {
    await using client = await connect(server);
    const made = await client.exec({ id: "chain", argv: makeChain(DEPTH, 1234) });
    expect(made.stdout).toBe("made\n");
    client.send({ type: "file.stat", id: "usage", path: "." });
    const stat = await client.next((message) => "id" in message && message.id === "usage");
    expect(stat).toMatchObject({ type: "file.stat.result", usage: { usedBytes: 1234, quotaBytes: null } });
  });

  test("is removed by file.remove, deeper than the server's open-file limit", async () => {
    await using client = await connect(server);
    const made = await client.exec({ id: "chain", argv: makeChain(DEPTH) });
    expect(made.stdout).toBe("made\n");
    client.send({ type: "file.remove", id: "rm", path: "a", recursive: true });
    expect(await client.next((message) => "id" in message && message.id === "rm")).toEqual({ type: "file.remove.result", id: "rm" });
    expect(existsSync(join(client.hello.workspace, "a"))).toBe(false);
  });
});
