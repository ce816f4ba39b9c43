// docs/PROTOCOL.md held against a real server: the order in which an exec is checked, who is
// sent what, the environment, refusals after the upgrade, and the output kept for finished execs.
import { describe, expect, test } from "bun:test";
import { buildExecEnv } from "../../src/exec/exec-env.ts";
import { createSeatbeltBackend } from "../../src/sandbox/seatbelt.ts";
import { connect } from "../helpers/client.ts";
import { replyOf, roundTrip } from "../helpers/round-trip.ts";
import { useSharedServer } from "../helpers/shared-server.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

describe.skipIf(noBwrap)("docs/PROTOCOL.md, the checks of an exec and who gets what", () => {
  const shared = useSharedServer();

  test("an exec is checked in the documented order: id, network, cwd, rlimits", async () => {
    const client = shared.client;
    await client.exec({ id: "used", argv: ["true"] });
    const tooHigh = { cpuSeconds: 10_000_000 };
    const cases: [Record<string, unknown>, string][] = [
      [{ id: "used", argv: ["false"], network: true, cwd: "../..", rlimits: tooHigh }, "duplicate_id"],
      [{ id: "o1", argv: ["true"], network: true, cwd: "../..", rlimits: tooHigh }, "forbidden_by_policy"],
      [{ id: "o2", argv: ["true"], cwd: "../..", rlimits: tooHigh }, "path_outside_workspace"],
      [{ id: "o3", argv: ["true"], cwd: "no-such-dir", rlimits: tooHigh }, "not_found"],
      [{ id: "o4", argv: ["true"], rlimits: tooHigh }, "forbidden_by_policy"],
    ];
    for (const [exec, code] of cases) {
      client.send({ type: "exec", ...exec });
      expect(await replyOf(client, String(exec["id"]))).toMatchObject({ type: "error", id: exec["id"], code });
    }
    // A cwd that is a file is not_directory; an exec refused before started leaves its id free.
    await client.exec({ id: "mk-file", argv: ["touch", "plain"] });
    client.send({ type: "exec", id: "o5", argv: ["true"], cwd: "plain" });
    expect(await replyOf(client, "o5")).toMatchObject({ type: "error", code: "not_directory" });
    expect((await client.exec({ id: "o5", argv: ["true"] })).exit).toMatchObject({ code: 0 });
  });

  test("a command's environment is exactly the documented one: the defaults, then env, then bwrap's PWD", async () => {
    const { workspace } = shared.client.hello;
    const run = await shared.client.exec({ id: "env-exact", argv: ["env"], env: { TMPDIR: "/mine", PWD: "/elsewhere", EXTRA: "1" } });
    expect(run.stdout.split("\n").filter(Boolean).sort()).toEqual(
      ["EXTRA=1", `HOME=${workspace}`, "LANG=C.UTF-8", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", `PWD=${workspace}`, "TERM=dumb", "TMPDIR=/mine"].sort(),
    );
  });

  test("state answers only the socket that resent the exec; spawn_failed after started reaches every joined socket", async () => {
    const name = `who-${crypto.randomUUID()}`;
    await using agent = await connect(shared.server, { query: { name } });
    await using viewer = await connect(shared.server, { query: { name } });
    const failed = await agent.exec({ id: "missing", argv: ["/opt/no-such-program"] });
    const seen = await viewer.runToExit("missing");
    const expected = [
      { type: "started", id: "missing", pid: expect.any(Number) },
      { type: "error", id: "missing", code: "spawn_failed", message: "/opt/no-such-program: cannot execute: ENOENT (no such file or directory)" },
      { type: "exit", id: "missing", code: 127, signal: null, reason: "exited", durationMs: expect.any(Number) },
    ];
    expect(failed.messages as unknown[]).toEqual(expected);
    expect(seen.messages as unknown[]).toEqual(expected);
    agent.send({ type: "exec", id: "missing", argv: ["/opt/no-such-program"] });
    expect(await replyOf(agent, "missing")).toMatchObject({ type: "state", id: "missing", exec: { state: "exited", exit: { code: 127 } } });
    await roundTrip(viewer);
    expect(viewer.takeQueued((m) => "id" in m && m.id === "missing")).toEqual([]);
  });

  test("an attach by a socket that already receives the exec replaces its subscription: a full replay, and one exit", async () => {
    const client = shared.client;
    client.send({ type: "exec", id: "again", argv: ["cat"], stdin: true });
    await replyOf(client, "again");
    client.send({ type: "stdin", id: "again", data: "one\n" });
    expect(await replyOf(client, "again")).toEqual({ type: "output", id: "again", stream: "stdout", offset: 0, data: "one\n" });
    client.send({ type: "attach", id: "again" });
    expect(await replyOf(client, "again")).toEqual({ type: "output", id: "again", stream: "stdout", offset: 0, data: "one\n" });
    client.send({ type: "stdin", id: "again", data: "two\n", eof: true });
    const rest = await client.runToExit("again");
    expect(rest.messages).toEqual([
      { type: "output", id: "again", stream: "stdout", offset: 4, data: "two\n" },
      expect.objectContaining({ type: "exit", id: "again", code: 0 }),
    ]);
    await roundTrip(client);
    expect(client.takeQueued((m) => "id" in m && m.id === "again")).toEqual([]);
  });
});

test("under seatbelt, TMPDIR is the session's <workspace>/.tmp, and a request's TMPDIR replaces it like any default", () => {
  const backend = createSeatbeltBackend();
  const policy = { workspace: "/Users/me/.bunker/workspaces/s1", allowNetwork: false };
  expect(backend.tempDir(policy)).toBe(`${policy.workspace}/.tmp`);
  const env = buildExecEnv({ home: policy.workspace, tempDir: backend.tempDir(policy), requested: { TMPDIR: "/mine" } });
  expect(backend.buildCommand({ argv: ["/usr/bin/env"], cwd: policy.workspace, env }, policy).env["TMPDIR"]).toBe("/mine");
});

describe.skipIf(noBwrap)("docs/PROTOCOL.md, refusals after the upgrade", () => {
  const shared = useSharedServer();

  test("?session=<id>&create=1 with a malformed id is bad_message, then close 1008", async () => {
    const client = await connect(shared.server, { query: { session: "not/valid", create: "1" }, waitForHello: false });
    expect(await client.next()).toEqual({ type: "error", code: "bad_message", message: 'session: "not/valid" must be 1 to 64 of A-Z a-z 0-9 . _ -' });
    expect((await client.closed).code).toBe(1008);
  });

  test("?name= that is the id of an anonymous session is unknown_session, then close 4404", async () => {
    const client = await connect(shared.server, { query: { name: shared.client.hello.session }, waitForHello: false });
    expect(await client.next()).toMatchObject({ type: "error", code: "unknown_session" });
    expect((await client.closed).code).toBe(4404);
  });
});

describe.skipIf(noBwrap)("docs/PROTOCOL.md, output kept for finished execs", () => {
  // A log large enough to keep each exec's 5 MB whole: only the session's 8 MiB budget drops output.
  const shared = useSharedServer({ args: ["--output-log-bytes", String(6 * 1024 * 1024)] });

  test("past 8 MiB, the output of the execs that ended first is dropped, whenever they started", async () => {
    const bytes = 5_000_000;
    const client = shared.client;
    // "late" starts first and ends last; "early" starts second and ends first.
    client.send({ type: "exec", id: "late", cmd: `read go; head -c ${bytes} /dev/zero | tr '\\0' a`, stdin: true });
    await replyOf(client, "late");
    expect((await client.exec({ id: "early", cmd: `head -c ${bytes} /dev/zero | tr '\\0' b` })).stdout.length).toBe(bytes);
    client.send({ type: "stdin", id: "late", data: "go\n", eof: true });
    expect((await client.runToExit("late")).stdout.length).toBe(bytes);

    client.send({ type: "attach", id: "early" });
    expect((await client.runToExit("early")).messages).toEqual([
      { type: "gap", id: "early", stream: "stdout", from: 0, to: bytes },
      expect.objectContaining({ type: "exit", id: "early" }),
    ]);
    client.send({ type: "attach", id: "late" });
    const late = await client.runToExit("late");
    expect(late.messages.filter((m) => m.type === "gap")).toEqual([]);
    expect(late.stdout.length).toBe(bytes);
  }, 30_000);
});
