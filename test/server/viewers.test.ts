// Viewers: a socket that joins a session with its view secret (hello.viewSecret) instead of the
// server's token sees its output and exec states, and can do nothing else.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { useSharedServer } from "../helpers/shared-server.ts";

/** Joins `session` as a viewer, with no token at all. */
function connectViewer(server: Pick<TestServer, "url" | "token">, session: string, viewSecret: string, options: { waitForHello?: boolean } = {}): Promise<TestClient> {
  return connect(server, { token: undefined, query: { session }, protocols: ["bunker.v1", `bunker.view.${viewSecret}`], ...options });
}

/** Every output byte of `id` the client is sent until its exit. */
async function outputUntilExit(client: TestClient, id: string): Promise<{ stdout: string; exit: Extract<ServerMessage, { type: "exit" }> }> {
  let stdout = "";
  for (;;) {
    const message = await client.next((m) => "id" in m && m.id === id && (m.type === "output" || m.type === "exit" || m.type === "gap"));
    if (message.type === "output") stdout += message.data;
    else if (message.type === "gap") throw new Error(`a gap in ${id}`);
    else if (message.type === "exit") return { stdout, exit: message };
  }
}

describe("viewers", () => {
  const shared = useSharedServer();

  test("a viewer needs no token: its hello says viewer and carries no secret, lists the execs, and it sees old and new output", async () => {
    await using agent = await connect(shared.server);
    const viewSecret = agent.hello.viewSecret!;
    expect(viewSecret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(viewSecret).not.toBe(agent.hello.resumeSecret);
    agent.send({ type: "exec", id: "before", stdin: true, cmd: "echo one; read line; echo two $line" });
    await agent.next((m) => m.type === "output" && m.id === "before" && m.data === "one\n");

    await using viewer = await connectViewer(shared.server, agent.hello.session, viewSecret);
    expect(viewer.hello).toMatchObject({ role: "viewer", session: agent.hello.session, resumed: true, execs: [{ id: "before", state: "running" }] });
    expect(viewer.hello).not.toHaveProperty("resumeSecret");
    expect(viewer.hello).not.toHaveProperty("viewSecret");
    // Output from before it joined: an attach from 0 replays it, then it goes on live.
    viewer.send({ type: "attach", id: "before" });
    await viewer.next((m) => m.type === "output" && m.id === "before" && m.data === "one\n");
    agent.send({ type: "stdin", id: "before", data: "x\n", eof: true });
    expect(await outputUntilExit(viewer, "before")).toMatchObject({ stdout: "two x\n", exit: { code: 0 } });

    // An exec started after it joined comes to it as to every joined socket.
    agent.send({ type: "exec", id: "after", cmd: "echo later" });
    await viewer.next((m) => m.type === "started" && m.id === "after");
    expect(await outputUntilExit(viewer, "after")).toMatchObject({ stdout: "later\n", exit: { code: 0 } });
    viewer.send({ type: "list", id: "l" });
    expect(await viewer.next((m) => m.type === "execs")).toMatchObject({ execs: [{ id: "before" }, { id: "after" }] });
  });

  test("a viewer may not act on the session: exec, stdin, signal, resize, close and file requests are forbidden_by_policy", async () => {
    await using agent = await connect(shared.server);
    agent.send({ type: "exec", id: "running", stdin: true, cmd: "cat" });
    await agent.next((m) => m.type === "started" && m.id === "running");
    await using viewer = await connectViewer(shared.server, agent.hello.session, agent.hello.viewSecret!);
    const attempts: Record<string, unknown>[] = [
      { type: "exec", id: "mine", argv: ["touch", "by-viewer"] },
      { type: "stdin", id: "running", data: "from the viewer\n" },
      { type: "signal", id: "running", signal: "SIGKILL" },
      { type: "resize", id: "running", cols: 10, rows: 10 },
      { type: "file.write", id: "f1", path: "by-viewer", data: "" },
      { type: "file.read", id: "f2", path: "." },
      { type: "close" },
    ];
    for (const attempt of attempts) {
      viewer.send(attempt);
      const error = await viewer.next((m) => m.type === "error");
      expect(error).toMatchObject({ code: "forbidden_by_policy", ...(typeof attempt["id"] === "string" && { id: attempt["id"] }) });
      expect((error as { message: string }).message).toContain(`${String(attempt["type"])}: this socket views the session read-only`);
    }
    // Nothing happened: the command runs on, got no stdin from the viewer, and the session lives.
    expect(existsSync(join(agent.hello.workspace, "by-viewer"))).toBe(false);
    agent.send({ type: "stdin", id: "running", data: "agent\n", eof: true });
    expect(await outputUntilExit(agent, "running")).toMatchObject({ stdout: "agent\n", exit: { code: 0 } });
    viewer.send({ type: "ping", id: "p" });
    expect(await viewer.next((m) => m.type === "pong")).toMatchObject({ id: "p" });
  });

  test("a PTY exec's size is in its ExecInfo, and a resize is told to the other sockets that follow it, not to the one that asked", async () => {
    await using agent = await connect(shared.server);
    agent.send({ type: "exec", id: "term", cmd: "cat", pty: { cols: 80, rows: 24 } });
    await agent.next((m) => m.type === "started" && m.id === "term");
    await using viewer = await connectViewer(shared.server, agent.hello.session, agent.hello.viewSecret!);
    expect(viewer.hello.execs).toMatchObject([{ id: "term", pty: true, size: { cols: 80, rows: 24 } }]);
    viewer.send({ type: "attach", id: "term" });
    agent.send({ type: "resize", id: "term", cols: 100, rows: 30 });
    expect(await viewer.next((m) => m.type === "resized")).toEqual({ type: "resized", id: "term", cols: 100, rows: 30 });
    agent.send({ type: "list", id: "after" });
    const listed = await agent.next((m) => m.type === "execs");
    expect(listed).toMatchObject({ execs: [{ id: "term", size: { cols: 100, rows: 30 } }] });
    // The socket that resized was not told its own resize.
    expect(agent.takeQueued((m) => m.type === "resized")).toEqual([]);
    agent.send({ type: "signal", id: "term", signal: "SIGKILL" });
  });

  test("a session takes 16 viewers at once; the 17th gets limit_exceeded and 1013 until one leaves", async () => {
    await using agent = await connect(shared.server);
    const { session, viewSecret } = agent.hello;
    const viewers: TestClient[] = [];
    try {
      for (let i = 0; i < 16; i++) viewers.push(await connectViewer(shared.server, session, viewSecret!));
      const refused = await connectViewer(shared.server, session, viewSecret!, { waitForHello: false });
      expect(await refused.next()).toMatchObject({ type: "error", code: "limit_exceeded", message: expect.stringContaining("16 viewers") });
      expect((await refused.closed).code).toBe(1013);
      await viewers.pop()![Symbol.asyncDispose]();
      viewers.push(await connectViewer(shared.server, session, viewSecret!));
      // The agent's own sockets are not viewers: it may still join as many as the server allows.
      await using second = await connect(shared.server, { query: { session }, protocols: ["bunker.v1", `bunker.resume.${agent.hello.resumeSecret}`] });
      expect(second.hello.resumed).toBe(true);
    } finally {
      for (const viewer of viewers) await viewer[Symbol.asyncDispose]();
    }
  });

  test("a wrong view secret, or the secrets swapped, is unknown_session; a wrong token beside a view secret is 401", async () => {
    await using agent = await connect(shared.server);
    const { session, resumeSecret, viewSecret } = agent.hello;
    for (const secret of ["x".repeat(32), resumeSecret!]) {
      const refused = await connectViewer(shared.server, session, secret, { waitForHello: false });
      expect(await refused.next()).toMatchObject({ type: "error", code: "unknown_session" });
      expect((await refused.closed).code).toBe(4404);
    }
    // The view secret does not resume: a viewer cannot make itself a full client.
    const escalated = await connect(shared.server, { query: { session }, protocols: ["bunker.v1", `bunker.resume.${viewSecret}`], waitForHello: false });
    expect(await escalated.next()).toMatchObject({ type: "error", code: "unknown_session" });
    const response = await fetch(shared.server.url.replace(/^ws/, "http"), {
      headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", authorization: "Bearer wrong", "sec-websocket-protocol": `bunker.v1, bunker.view.${viewSecret}` },
    });
    expect(response.status).toBe(401);
  });

  test("view.revoke cuts every viewer (unknown_session, 4404), refuses the old secret, and tells every full socket the new one", async () => {
    await using agent = await connect(shared.server);
    const { session, resumeSecret, viewSecret: oldSecret } = agent.hello;
    await using second = await connect(shared.server, { query: { session }, protocols: ["bunker.v1", `bunker.resume.${resumeSecret}`] });
    const viewers = [await connectViewer(shared.server, session, oldSecret!), await connectViewer(shared.server, session, oldSecret!)];
    // A viewer may not revoke: that acts on the session.
    viewers[0]!.send({ type: "view.revoke", id: "mine" });
    expect(await viewers[0]!.next((m) => m.type === "error")).toMatchObject({ id: "mine", code: "forbidden_by_policy" });

    agent.send({ type: "view.revoke", id: "r1" });
    const revoked = await agent.next((m) => m.type === "view.revoked");
    expect(revoked).toEqual({ type: "view.revoked", id: "r1", viewSecret: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/), viewersCut: 2 });
    const newSecret = (revoked as { viewSecret: string }).viewSecret;
    expect(newSecret).not.toBe(oldSecret);
    expect(newSecret).not.toBe(resumeSecret);
    // The other full socket learns it too, without the asker's id.
    expect(await second.next((m) => m.type === "view.revoked")).toEqual({ type: "view.revoked", viewSecret: newSecret, viewersCut: 2 });
    for (const viewer of viewers) {
      expect(await viewer.next((m) => m.type === "error")).toMatchObject({ code: "unknown_session", message: expect.stringContaining("revoked") });
      expect(await viewer.closed).toEqual({ code: 4404, reason: "view revoked" });
    }

    // The old secret joins nothing any more; the new one does, and a resumed hello carries it.
    const refused = await connectViewer(shared.server, session, oldSecret!, { waitForHello: false });
    expect(await refused.next()).toMatchObject({ type: "error", code: "unknown_session" });
    expect((await refused.closed).code).toBe(4404);
    await using viewer = await connectViewer(shared.server, session, newSecret);
    expect(viewer.hello).toMatchObject({ role: "viewer", session });
    await using third = await connect(shared.server, { query: { session }, protocols: ["bunker.v1", `bunker.resume.${resumeSecret}`] });
    expect(third.hello.viewSecret).toBe(newSecret);
    // The full sockets were not touched: the session goes on.
    agent.send({ type: "exec", id: "after", cmd: "echo still" });
    expect(await outputUntilExit(agent, "after")).toMatchObject({ stdout: "still\n", exit: { code: 0 } });

    // Revoking again makes yet another secret, and cuts the viewer of the second.
    second.send({ type: "view.revoke" });
    const again = await second.next((m) => m.type === "view.revoked");
    expect(again).toMatchObject({ viewersCut: 1 });
    expect([oldSecret, newSecret]).not.toContain((again as { viewSecret: string }).viewSecret);
    expect((await viewer.closed).code).toBe(4404);
  });

  test("a viewer cut by view.revoke lets go of the execs it followed: it holds none of the output the session's budget lets go", async () => {
    // The session keeps 8 MiB of its finished execs' output (ServerLimits.retainedOutputBytes), the
    // oldest going first, except what a subscribed socket is still to be sent. A cut viewer's
    // subscription stayed, stopped where it was cut, and kept the rest of the exec for ever (found
    // by a review of view.revoke: it left the session before its socket was closed).
    await using agent = await connect(shared.server);
    const viewer = await connectViewer(shared.server, agent.hello.session, agent.hello.viewSecret!);
    agent.send({ type: "exec", id: "followed", cmd: "cat", stdin: true });
    await viewer.next((m) => m.type === "started" && m.id === "followed");
    agent.send({ type: "stdin", id: "followed", data: "before\n" });
    expect(await viewer.next((m) => m.type === "output" && m.id === "followed")).toMatchObject({ data: "before\n" });
    agent.send({ type: "view.revoke", id: "cut" });
    expect(await agent.next((m) => m.type === "view.revoked")).toMatchObject({ viewersCut: 1 });
    expect((await viewer.closed).code).toBe(4404);
    agent.send({ type: "stdin", id: "followed", data: "after\n", eof: true });
    expect((await agent.runToExit("followed")).stdout).toBe("before\nafter\n");

    // Past the budget: 9 execs of 1 MB (under the log's 1 MiB, so each keeps all of it) after it.
    for (let index = 0; index < 9; index++) {
      expect((await agent.exec({ id: `fill-${index}`, cmd: "head -c 1000000 /dev/zero" })).exit.code).toBe(0);
    }
    // The oldest exec's output is gone, all of it: an attach from 0 is told so in one gap.
    agent.send({ type: "attach", id: "followed", offsets: { stdout: 0, stderr: 0 } });
    const replay = await agent.runToExit("followed");
    expect(replay.messages.map((m) => m.type)).toEqual(["gap", "exit"]);
    expect(replay.messages[0]).toEqual({ type: "gap", id: "followed", stream: "stdout", from: 0, to: 13 });
  });
});

test("viewers do not hold a session: its detach TTL runs as if they were not joined, and they are closed with it", async () => {
  await using server = await startServer({ args: ["--detach-ttl", "1s"] });
  const agent = await connect(server);
  agent.send({ type: "exec", id: "long", cmd: "sleep 1000" });
  await agent.next((m) => m.type === "started" && m.id === "long");
  await using viewer = await connectViewer(server, agent.hello.session, agent.hello.viewSecret!);
  await agent[Symbol.asyncDispose]();
  // The TTL ends the session although the viewer is still joined.
  expect(await viewer.next((m) => m.type === "closed")).toEqual({ type: "closed", session: agent.hello.session });
  expect(await viewer.closed).toEqual({ code: 4000, reason: "session expired" });
  const resumed = await connect(server, { query: { session: agent.hello.session }, protocols: ["bunker.v1", `bunker.resume.${agent.hello.resumeSecret}`], waitForHello: false });
  expect(await resumed.next()).toMatchObject({ type: "error", code: "unknown_session" });
});

test("a viewer attaching does not end the hold of an agent that dropped: the agent comes back to every byte", async () => {
  // A small log, so that a command run free would drop what the agent has not had within a few KiB.
  await using server = await startServer({ args: ["--output-log-bytes", "65536"] });
  const agent = await connect(server);
  const { session, resumeSecret, viewSecret } = agent.hello;
  // A window the agent never acks: the server sends it at most 16 KiB, and keeps the rest for it.
  agent.send({ type: "exec", id: "count", cmd: "seq 1 100000", ackWindowBytes: 16384 });
  await agent.next((m) => m.type === "output" && m.id === "count");
  await agent[Symbol.asyncDispose]();

  // The viewer attaches during the agent's hold and reads on: it never paces the command.
  await using viewer = await connectViewer(server, session, viewSecret!);
  viewer.send({ type: "attach", id: "count" });
  await viewer.next((m) => m.type === "output" && m.id === "count");

  await using back = await connect(server, { query: { session }, protocols: ["bunker.v1", `bunker.resume.${resumeSecret}`] });
  back.send({ type: "attach", id: "count", offsets: { stdout: 0, stderr: 0 }, ackWindowBytes: 65536 });
  let stdout = "";
  for (;;) {
    const message = await back.next((m) => "id" in m && m.id === "count" && ["output", "gap", "exit"].includes(m.type));
    if (message.type === "gap") throw new Error(`the agent lost ${JSON.stringify(message)}`);
    if (message.type === "exit") break;
    if (message.type === "output") {
      stdout += message.data;
      back.send({ type: "ack", id: "count", stream: "stdout", offset: Buffer.byteLength(stdout) });
    }
  }
  const expected = Array.from({ length: 100000 }, (_, i) => `${i + 1}\n`).join("");
  expect(stdout.length).toBe(expected.length);
  expect(stdout === expected).toBe(true);
});

test("sockets without the token, refused or viewing, are logged within the refusal budget, as wrong tokens are", async () => {
  await using server = await startServer({ args: ["--log-format", "json"] });
  const agent = await connect(server);
  // Each costs its client nothing: an id and any secret, no token (or a view secret, and a socket
  // opened and closed). Unbudgeted, anyone who reaches the port could fill the disk with
  // connection.close lines.
  const attempts = 250;
  const startedMs = performance.now();
  for (let index = 0; index < attempts; index++) {
    const refused = await connectViewer(server, `no-such-session-${index}`, "x".repeat(32), { waitForHello: false });
    expect(await refused.next()).toMatchObject({ type: "error", code: "unknown_session" });
    expect((await refused.closed).code).toBe(4404);
    const viewer = await connectViewer(server, agent.hello.session, agent.hello.viewSecret!);
    viewer.ws.close();
    await viewer.closed;
  }
  const elapsedMs = performance.now() - startedMs;
  await agent[Symbol.asyncDispose]();
  await server.stop();
  const closes = server
    .stderr()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => record["event"] === "connection.close" && record["auth"] === "view");
  expect(closes.length).toBeGreaterThan(0);
  // At most 100 lines a second (log-audit.ts), however many sockets tried.
  expect(closes.length).toBeLessThanOrEqual(100 * Math.ceil(elapsedMs / 1000));
  expect(elapsedMs).toBeLessThan(attempts * 2 * 10);
});
