import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeReasonOf } from "../../src/server/session-request.ts";
import type { ExecInfo, ServerMessage } from "../../src/protocol/index.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { countSleepers, pollProc } from "../helpers/proc.ts";

type Output = Extract<ServerMessage, { type: "output" }>;

/** `seq 1 n` as the command prints it. */
function seqText(n: number): string {
  let text = "";
  for (let i = 1; i <= n; i++) text += `${i}\n`;
  return text;
}

/** Reconnects to a session with its id in the URL and its secret as a subprotocol. */
function resume(server: Pick<TestServer, "url" | "token">, hello: TestClient["hello"], secret = hello.resumeSecret, waitForHello = true): Promise<TestClient> {
  return connect(server, { query: { session: hello.session }, protocols: ["bunker.v1", `bunker.resume.${secret}`], waitForHello });
}

/** Asks for the session's execs until one matches; each round trip is an awaited reply, not a sleep. */
async function waitForExec(client: TestClient, id: string, matches: (exec: ExecInfo) => boolean): Promise<ExecInfo> {
  for (let round = 0; ; round++) {
    client.send({ type: "list", id: `list-${round}` });
    const reply = await client.next<Extract<ServerMessage, { type: "execs" }>>((m) => m.type === "execs" && m.id === `list-${round}`);
    const exec = reply.execs.find((candidate) => candidate.id === id);
    if (exec && matches(exec)) return exec;
  }
}

describe.skipIf(noBwrap)("sessions that outlive the socket", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server[Symbol.asyncDispose]();
  });

  test("hello carries a resume secret, and a reconnect with it gets resumed: true and the execs", async () => {
    const first = await connect(server);
    expect(first.hello).toMatchObject({ resumed: false, execs: [] });
    expect(first.hello.resumeSecret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(first.hello.host.length).toBeGreaterThan(0);
    await first.exec({ id: "before", cmd: "echo kept; exit 4" });
    first.ws.close();
    await first.closed;

    await using second = await resume(server, first.hello);
    expect(second.hello).toMatchObject({ resumed: true, session: first.hello.session, workspace: first.hello.workspace });
    expect(second.hello.execs).toEqual([
      expect.objectContaining({ id: "before", cmd: "echo kept; exit 4", state: "exited", exit: expect.objectContaining({ code: 4 }), bytes: { stdout: 5, stderr: 0 } }),
    ]);
    // The exit is kept: a late client can still attach and get the output and the exit.
    second.send({ type: "attach", id: "before" });
    const transcript = await second.runToExit("before");
    expect(transcript.stdout).toBe("kept\n");
    expect(transcript.exit).toMatchObject({ code: 4, reason: "exited" });
  });

  test("a wrong secret or an unknown session gets unknown_session and close code 4404", async () => {
    const first = await connect(server);
    const wrong = await resume(server, first.hello, "not-the-secret", false);
    expect(await wrong.next()).toMatchObject({ type: "error", code: "unknown_session" });
    expect((await wrong.closed).code).toBe(4404);
    const unknown = await connect(server, { query: { session: "no-such-session" }, protocols: ["bunker.v1", "bunker.resume.x"], waitForHello: false });
    expect(await unknown.next()).toMatchObject({ type: "error", code: "unknown_session" });
    expect((await unknown.closed).code).toBe(4404);
    first.ws.close();
  });

  test("a TCP connection cut in the middle of a 50 MB stream resumes byte-exact from the last offset received", async () => {
    await using proxy = await startTcpProxy(server.port);
    const count = 6_500_000;
    const expected = seqText(count);
    expect(expected.length).toBeGreaterThan(50_000_000);
    const first = await connect({ url: `ws://127.0.0.1:${proxy.port}/ws`, token: server.token });
    // The client acknowledges what it has processed, so the server keeps everything after that even
    // though bytes it sent were still in kernel buffers when the connection was cut.
    first.send({ type: "exec", id: "big", argv: ["seq", "1", String(count)], ackWindowBytes: 8 * 1024 * 1024 });
    const received: string[] = [];
    let offset = 0;
    let acked = 0;
    while (offset < 10_000_000) {
      const message = await first.next((m) => m.type === "output" && m.id === "big");
      const output = message as Output;
      expect(output.offset).toBe(offset);
      received.push(output.data);
      offset += output.data.length;
      if (offset - acked > 512 * 1024) {
        first.send({ type: "ack", id: "big", stream: "stdout", offset });
        acked = offset;
      }
    }
    proxy.dropAll();
    expect((await first.closed).code).toBe(1006);
    // What had reached the client before the cut counts as received.
    for (const message of first.takeQueued((m) => m.type === "output" && m.id === "big") as Output[]) {
      expect(message.offset).toBe(offset);
      received.push(message.data);
      offset += message.data.length;
    }

    await using second = await resume(server, first.hello);
    expect(second.hello.resumed).toBe(true);
    second.send({ type: "attach", id: "big", offsets: { stdout: offset } });
    const rest = await second.runToExit("big");
    const notOutput = rest.messages.filter((m) => m.type !== "output");
    expect(notOutput.map((m) => m.type)).toEqual(["exit"]);
    expect((rest.messages.find((m) => m.type === "output") as Output).offset).toBe(offset);
    expect(rest.exit).toMatchObject({ code: 0, reason: "exited" });
    const whole = received.join("") + rest.stdout;
    expect(whole.length).toBe(expected.length);
    expect(whole === expected).toBe(true);
  }, 60_000);

  test("an exec resent with the same id and request returns its state instead of running again", async () => {
    await using client = await connect(server);
    const exec = { id: "once", cmd: "echo ran >> count; cat count | wc -l" };
    const first = await client.exec(exec);
    expect(first.stdout.trim()).toBe("1");
    client.send({ type: "exec", ...exec });
    const state = await client.next((m) => "id" in m && m.id === "once");
    expect(state).toMatchObject({ type: "state", id: "once", exec: { state: "exited", exit: { code: 0 }, bytes: { stdout: 2, stderr: 0 } } });
    const check = await client.exec({ id: "check", cmd: "cat count | wc -l" });
    expect(check.stdout.trim()).toBe("1");
  });

  test("list reports id, command, state, pid, start time, exit and bytes per stream", async () => {
    await using client = await connect(server);
    await client.exec({ id: "done", argv: ["sh", "-c", "printf abc; printf de >&2"] });
    client.send({ type: "exec", id: "live", argv: ["sleep", "30"] });
    const started = await client.next((m) => m.type === "started" && m.id === "live");
    client.send({ type: "list", id: "l1" });
    const reply = await client.next((m) => m.type === "execs");
    expect(reply).toEqual({
      type: "execs",
      id: "l1",
      execs: [
        {
          id: "done",
          argv: ["sh", "-c", "printf abc; printf de >&2"],
          pty: false,
          state: "exited",
          pid: expect.any(Number),
          startedAt: expect.any(Number),
          exit: { code: 0, signal: null, reason: "exited", durationMs: expect.any(Number) },
          bytes: { stdout: 3, stderr: 2 },
        },
        { id: "live", argv: ["sleep", "30"], pty: false, state: "running", pid: (started as { pid: number }).pid, startedAt: expect.any(Number), bytes: { stdout: 0, stderr: 0 } },
      ],
    });
    client.send({ type: "signal", id: "live", signal: "SIGKILL" });
    await client.runToExit("live");
  });

  test("close ends the session: its trees are killed, it says closed, and it cannot be resumed", async () => {
    const client = await connect(server);
    client.send({ type: "exec", id: "long", argv: ["sleep", "30"] });
    await client.next((m) => m.type === "started");
    client.send({ type: "close" });
    expect(await client.next((m) => m.type === "closed")).toEqual({ type: "closed", session: client.hello.session });
    expect((await client.closed).code).toBe(4000);
    const again = await resume(server, client.hello, undefined, false);
    expect(await again.next()).toMatchObject({ type: "error", code: "unknown_session" });
  });

  test("two sockets on a named session both receive output, and the workspace is reused across connections", async () => {
    await using agent = await connect(server, { query: { name: "shared-one" } });
    await using viewer = await connect(server, { query: { name: "shared-one" } });
    expect(agent.hello).toMatchObject({ session: "shared-one", name: "shared-one", resumed: false });
    expect(viewer.hello).toMatchObject({ session: "shared-one", resumed: true, workspace: agent.hello.workspace });
    const ran = await agent.exec({ id: "w", cmd: "echo hello > note; cat note" });
    expect(ran.stdout).toBe("hello\n");
    const seen = await viewer.runToExit("w");
    expect(seen.stdout).toBe("hello\n");
    agent.ws.close();
    viewer.ws.close();
    await Promise.all([agent.closed, viewer.closed]);
    await using later = await connect(server, { query: { name: "shared-one" } });
    expect((await later.exec({ id: "r", cmd: "cat note" })).stdout).toBe("hello\n");
  });

  test("a client may create a session with an id it chose (?session=<id>&create=1), which still needs its secret to resume", async () => {
    const id = `chosen-${crypto.randomUUID()}`;
    const first = await connect(server, { query: { session: id, create: "1" } });
    expect(first.hello).toMatchObject({ session: id, resumed: false });
    expect(first.hello.name).toBeUndefined();
    first.ws.close();
    await first.closed;
    const taken = await connect(server, { query: { session: id, create: "1" }, waitForHello: false });
    expect(await taken.next()).toMatchObject({ type: "error", code: "unknown_session" });
    const byName = await connect(server, { query: { name: id }, waitForHello: false });
    expect(await byName.next()).toMatchObject({ type: "error", code: "unknown_session" });
    await using back = await resume(server, first.hello);
    expect(back.hello).toMatchObject({ session: id, resumed: true });

    // create=true is create=1, not a resume of an id nobody has.
    const spelled = `chosen-${crypto.randomUUID()}`;
    await using second = await connect(server, { query: { session: spelled, create: "true" } });
    expect(second.hello).toMatchObject({ session: spelled, resumed: false });
  });

  test("a bad session name is refused with a reason", async () => {
    const client = await connect(server, { query: { name: "../etc" }, waitForHello: false });
    expect(await client.next()).toMatchObject({ type: "error", code: "bad_message" });
    expect((await client.closed).code).toBe(1008);
  });
});

describe.skipIf(noBwrap)("bounded sessions", () => {
  test("a full registry refuses a new session with limit_exceeded and 1013", async () => {
    await using server = await startServer({ args: ["--max-sessions", "2"] });
    await using one = await connect(server);
    await using two = await connect(server);
    const three = await connect(server, { waitForHello: false });
    expect(await three.next()).toMatchObject({ type: "error", code: "limit_exceeded" });
    expect((await three.closed).code).toBe(1013);
    expect((await one.exec({ id: "a", argv: ["true"] })).exit.code).toBe(0);
    void two;
  });

  test("with a tiny log, bytes produced while nobody listens are reported as a gap, never silently lost", async () => {
    await using server = await startServer({ args: ["--output-log-bytes", "1024", "--hold-output", "0s"] });
    await using client = await connect(server);
    client.send({ type: "exec", id: "g", cmd: "read go; seq 1 20000", stdin: true });
    await client.next((m) => m.type === "started");
    client.send({ type: "detach", id: "g" });
    client.send({ type: "stdin", id: "g", data: "go\n", eof: true });
    const expected = seqText(20000);
    await waitForExec(client, "g", (exec) => exec.state === "exited");
    client.send({ type: "attach", id: "g", offsets: { stdout: 0 } });
    const transcript = await client.runToExit("g");
    expect(transcript.messages.filter((m) => m.type === "gap")).toEqual([{ type: "gap", id: "g", stream: "stdout", from: 0, to: expected.length - 1024 }]);
    expect(transcript.stdout).toBe(expected.slice(-1024));
  });

  /** Starts `sleep <marker>` in the client's session, waits until it runs, and closes the socket. */
  async function leaveSleeping(client: TestClient, marker: string): Promise<void> {
    client.send({ type: "exec", id: "orphan", argv: ["sleep", marker] });
    await client.next((m) => m.type === "started");
    // Nothing to await but the kernel: watch /proc until the sleep runs (its end, the caller's).
    await pollProc(() => countSleepers(marker) === 1);
    client.ws.close();
    await client.closed;
  }

  test("when the detach TTL runs out, the tree is killed and the session ends", async () => {
    await using server = await startServer({ args: ["--detach-ttl", "300ms", "--hold-output", "0s"] });
    const client = await connect(server);
    await leaveSleeping(client, "987");
    await pollProc(() => countSleepers("987") === 0);
    const again = await resume(server, client.hello, undefined, false);
    expect(await again.next()).toMatchObject({ type: "error", code: "unknown_session" });
  });

  test("a socket may ask for a shorter detach TTL (?detachTtlMs=), never a longer one; hello says the session's", async () => {
    await using server = await startServer({ args: ["--detach-ttl", "10m", "--hold-output", "0s"] });
    const client = await connect(server, { query: { detachTtlMs: "1000" } });
    expect(client.hello.detachTtlMs).toBe(1000);
    await leaveSleeping(client, "986");
    // Gone after the second the socket asked for, not the server's ten minutes.
    await pollProc(() => countSleepers("986") === 0);
    await using longer = await connect(server, { query: { detachTtlMs: String(3_600_000) } });
    expect(longer.hello.detachTtlMs).toBe(600_000);
    await using plain = await connect(server);
    expect(plain.hello.detachTtlMs).toBe(600_000);
    // More digits than a number holds: longer than the server's, so the server's.
    await using huge = await connect(server, { query: { detachTtlMs: "9".repeat(20) } });
    expect(huge.hello.detachTtlMs).toBe(600_000);
  });

  test("a socket's detach TTL applies when it is the last to leave: a viewer that asked for one second does not cut the TTL of the socket that leaves after it", async () => {
    await using server = await startServer({ args: ["--detach-ttl", "10m", "--hold-output", "0s"] });
    const agent = await connect(server, { query: { name: "work" } });
    agent.send({ type: "exec", id: "long", argv: ["sleep", "985"] });
    await agent.next((m) => m.type === "started");
    await pollProc(() => countSleepers("985") === 1);
    const viewer = await connect(server, { query: { name: "work", detachTtlMs: "1000" } });
    expect(viewer.hello.detachTtlMs).toBe(1000);
    viewer.ws.close();
    await viewer.closed;
    agent.ws.close();
    await agent.closed;
    // Past the viewer's second: the agent's ten minutes hold, and the sleep runs on.
    await Bun.sleep(1500);
    expect(countSleepers("985")).toBe(1);
    await using back = await connect(server, { query: { name: "work" } });
    expect(back.hello.execs.map((exec) => [exec.id, exec.state])).toEqual([["long", "running"]]);
    back.send({ type: "close" });
    await pollProc(() => countSleepers("985") === 0);
  });

  test("a malformed or too short ?detachTtlMs= is bad_message and close 1008", async () => {
    await using server = await startServer();
    for (const value of ["500", "soon", "-5", "1e4", "", "12.5"]) {
      const refused = await connect(server, { query: { detachTtlMs: value }, waitForHello: false });
      expect(await refused.next()).toEqual({ type: "error", code: "bad_message", message: `detachTtlMs: ${JSON.stringify(value)} must be a whole number of milliseconds, at least 1000` });
      expect((await refused.closed).code).toBe(1008);
    }
  });

  test("a dropped socket does not kill the session's commands within the TTL", async () => {
    await using server = await startServer();
    const client = await connect(server);
    client.send({ type: "exec", id: "keep", cmd: "read line; echo got $line", stdin: true });
    await client.next((m) => m.type === "started");
    client.ws.close();
    await client.closed;
    await using back = await resume(server, client.hello);
    back.send({ type: "attach", id: "keep" });
    back.send({ type: "stdin", id: "keep", data: "it\n" });
    const transcript = await back.runToExit("keep");
    expect(transcript.stdout).toBe("got it\n");
  });
});

describe.skipIf(noBwrap)("close with a full ack window", () => {
  test("close ends the session even while an exec waits for acknowledgements that never come", async () => {
    await using server = await startServer();
    const client = await connect(server);
    client.send({ type: "exec", id: "flood", argv: ["seq", "1", "100000000"], ackWindowBytes: 65536 });
    await client.next((m) => m.type === "output" && m.id === "flood");
    client.send({ type: "close" });
    expect(await client.next((m) => m.type === "closed")).toEqual({ type: "closed", session: client.hello.session });
    expect((await client.closed).code).toBe(4000);
  });
});

/** A viewer that joins a named session and then never reads: a raw TCP socket, paused after the upgrade. */
async function stuckViewer(port: number, token: string | undefined, name: string): Promise<{ close(): void }> {
  const upgraded = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(self, data) {
        if (new TextDecoder().decode(data).startsWith("HTTP/1.1 101")) {
          self.pause();
          upgraded.resolve();
        } else upgraded.reject(new Error(new TextDecoder().decode(data)));
      },
    },
  });
  socket.write(
    [
      `GET /ws?name=${name} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      "Sec-WebSocket-Version: 13",
      `Sec-WebSocket-Key: ${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64")}`,
      "Sec-WebSocket-Protocol: bunker.v1",
      ...(token ? [`Authorization: Bearer ${token}`] : []),
      "",
      "",
    ].join("\r\n"),
  );
  await upgraded.promise;
  return { close: () => socket.terminate() };
}

describe.skipIf(noBwrap)("a slow viewer", () => {
  test("never slows the agent: a viewer that stops reading does not hold back a 40 MB stream", async () => {
    await using server = await startServer();
    const viewer = await stuckViewer(server.port, server.token, "watched");
    await using agent = await connect(server, { query: { name: "watched" } });
    expect(agent.hello.resumed).toBe(true);
    const run = await agent.exec({ id: "flood", cmd: "head -c 30000000 /dev/zero | base64 -w 0", encoding: "utf8" });
    expect(run.messages.filter((m) => m.type === "gap")).toEqual([]);
    expect(run.stdout.length).toBe(40_000_000);
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    viewer.close();
  }, 30_000);
});

describe.skipIf(noBwrap)("session lifetimes", () => {
  test("a session with no socket and nothing running is evicted after the idle TTL", async () => {
    await using server = await startServer({ args: ["--session-idle-ttl", "200ms"] });
    const client = await connect(server);
    await client.exec({ id: "done", argv: ["true"] });
    client.ws.close();
    await client.closed;
    // The eviction has no event to await, and a resume would reset the TTL: watch /metrics instead.
    const detached = async () => {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers: { authorization: `Bearer ${server.token}` } })).text();
      return Number(/^bunker_sessions\{state="detached"\} (\d+)$/m.exec(text)?.[1]);
    };
    expect(await detached()).toBe(1);
    while ((await detached()) > 0) await Bun.sleep(50);
    const again = await resume(server, client.hello, undefined, false);
    expect(await again.next()).toMatchObject({ type: "error", code: "unknown_session" });
  });

  test("server shutdown kills the processes of detached sessions too", async () => {
    const server = await startServer();
    const client = await connect(server);
    client.send({ type: "exec", id: "left", argv: ["sleep", "876"] });
    await client.next((m) => m.type === "started");
    await pollProc(() => countSleepers("876") === 1);
    client.ws.close();
    await client.closed;
    expect(await server.stop()).toBe(0);
    expect(countSleepers("876")).toBe(0);
    await server[Symbol.asyncDispose]();
  });
});

describe("refusals that do not tell a live id", () => {
  /** The first message of a socket the server refuses, and how the server closed it. */
  async function refusalOf(server: TestServer, query: Record<string, string>, protocols?: string[]) {
    const client = await connect(server, { query, waitForHello: false, ...(protocols && { protocols }) });
    return { first: await client.next(), closed: await client.closed };
  }

  test("?session=<id>&create=1 with an id in use is refused in exactly a failed resume's words and close", async () => {
    await using server = await startServer();
    const id = `chosen-${crypto.randomUUID()}`;
    await using owner = await connect(server, { query: { session: id, create: "1" } });
    expect(owner.hello).toMatchObject({ session: id, resumed: false });
    const message = `no session ${JSON.stringify(id)} to resume here with that secret: it ended, lives on another host, or the secret is wrong`;
    const taken = await refusalOf(server, { session: id, create: "1" });
    expect(taken).toEqual({ first: { type: "error", code: "unknown_session", message }, closed: { code: 4404, reason: closeReasonOf(message) } });
    expect(await refusalOf(server, { session: id }, ["bunker.v1", "bunker.resume.not-the-secret"])).toEqual(taken);
    expect(await refusalOf(server, { session: id })).toEqual(taken);
    // An id the server never held gets the same answer, its own id aside.
    const unknownId = `chosen-${crypto.randomUUID()}`;
    const unknown = await refusalOf(server, { session: unknownId }, ["bunker.v1", "bunker.resume.not-the-secret"]);
    expect(JSON.parse(JSON.stringify(unknown).replaceAll(unknownId, id))).toEqual(taken);
  });
});
