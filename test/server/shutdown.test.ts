import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runServe } from "../../src/cli/serve.ts";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { startServer } from "../helpers/server-process.ts";
import { connect } from "../helpers/client.ts";

function descendantsOf(rootPid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // Gone.
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parents) if (parent === pid) found.push(child), walk(child);
  };
  walk(rootPid);
  return found;
}

function isAlive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) [ZX] /.test(state);
  } catch {
    return false;
  }
}

test("SIGTERM closes sockets with 1001, kills every tree, exits 0 and leaves nothing running", async () => {
  await using server = await startServer();
  const client = await connect(server);
  client.send({ type: "exec", id: "long", cmd: "sleep 104 & sleep 104" });
  await client.next((m) => m.type === "started");
  const tree = descendantsOf(server.pid);
  expect(tree.length).toBeGreaterThan(0);
  const code = await server.stop();
  expect(code).toBe(0);
  expect((await client.closed).code).toBe(1001);
  expect(tree.filter(isAlive)).toEqual([]);
});

test("a SIGTERM sent the moment the listening line is read still stops the server cleanly (exit 0)", async () => {
  // The handlers are installed before the line goes out: a supervisor that reacts to it at once
  // must not find the signal's default action, which kills the process (exit 143).
  await using server = await startServer({ args: ["--sandbox", "none"] });
  expect(await server.stop()).toBe(0);
});

test.each([
  ["bwrap", "the namespace dies with its pid 1"],
  ["none", "the reaper kills its process group first"],
])("SIGKILL of the server still takes every command down, --sandbox %s (%s)", async (sandbox) => {
  await using server = await startServer({ args: ["--sandbox", sandbox] });
  const client = await connect(server);
  client.send({ type: "exec", id: "long", cmd: "sleep 105 & sleep 105" });
  client.send({ type: "exec", id: "deaf", cmd: "trap '' TERM INT HUP; sleep 106 & wait" });
  client.send({ type: "exec", id: "shelled", cmd: "sleep 107 & echo up", shell: "main" });
  for (const id of ["long", "deaf"]) await client.next((m) => m.type === "started" && m.id === id);
  await client.next((m) => m.type === "exit" && m.id === "shelled");
  const tree = descendantsOf(server.pid);
  // Under none (found by a crash hunt), every one of these outlived a killed server before.
  expect(tree.length).toBeGreaterThanOrEqual(6);
  server.process.kill("SIGKILL");
  await server.process.exited;
  await client.closed;
  // The reapers see their lifeline close as the server dies; give each process its own wait.
  for (const pid of tree) {
    for (let attempt = 0; attempt < 200 && isAlive(pid); attempt++) await Bun.sleep(10);
  }
  expect(tree.filter(isAlive)).toEqual([]);
});

/**
 * One HTTP/1.1 connection kept open between requests: a request written on it is in the server's
 * socket before the test's next statement runs, so the test decides what the server did first.
 */
async function keepAliveConnection(port: number) {
  const decoder = new TextDecoder();
  let buffered = "";
  let waiting: PromiseWithResolvers<{ status: number; body: unknown }> | undefined;
  const answer = () => {
    const end = buffered.indexOf("\r\n\r\n");
    if (!waiting || end < 0) return;
    const head = buffered.slice(0, end);
    const length = Number(/^content-length: *(\d+)/im.exec(head)?.[1] ?? 0);
    if (buffered.length < end + 4 + length) return;
    const body = buffered.slice(end + 4, end + 4 + length);
    buffered = buffered.slice(end + 4 + length);
    waiting.resolve({ status: Number(head.split(" ")[1]), body: JSON.parse(body) });
    waiting = undefined;
  };
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, data) {
        buffered += decoder.decode(data);
        answer();
      },
      close() {
        waiting?.reject(new Error("the connection closed before the response"));
      },
    },
  });
  return {
    get(path: string) {
      waiting = Promise.withResolvers();
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      return waiting.promise;
    },
    close: () => socket.end(),
  };
}

test("shutting down: /healthz says 503 from the first step until the listener closes; sockets get 1001, and the trees are gone when stop resolves", async () => {
  const workspaceRoot = mkdtempSync(join(tmpdir(), "bunker-test-ws-"));
  try {
    const outcome = await runServe(["--port", "0", "--no-auth", "--sandbox", "none", "--workspace-root", workspaceRoot, "--log-level", "error", "--host-id", "stopping-host"], {});
    if (!outcome) throw new Error("serve printed its help");
    const { server } = outcome;
    const client = await connect({ url: server.url.href, token: undefined });
    client.send({ type: "exec", id: "long", argv: ["sleep", "107"] });
    const started = await client.next<Extract<ServerMessage, { type: "started" }>>((message) => message.type === "started");
    const http = await keepAliveConnection(server.port);
    expect(await http.get("/healthz")).toEqual({ status: 200, body: { ok: true, host: "stopping-host", sandbox: "none" } });

    // Written before the stop begins, read by the server only after its first step: the same
    // connection, accepted while the server was up, gets 503 while the listener still stands.
    const during = http.get("/healthz");
    const stopped = outcome.shutdown();
    expect(await during).toEqual({ status: 503, body: { ok: false, host: "stopping-host", sandbox: "none" } });
    // A command killed by the shutdown sends no exit: the socket is closed, not told.
    expect(await client.closed).toEqual({ code: 1001, reason: "server shutting down" });
    expect(client.takeQueued((message) => message.type === "exit")).toEqual([]);
    await stopped;
    expect(isAlive(started.pid)).toBe(false);
    // The listener is gone once stop resolves.
    expect(await fetch(`http://127.0.0.1:${server.port}/healthz`).then((response) => response.status, () => "refused")).toBe("refused");
    http.close();
  } finally {
    rmSync(workspaceRoot, { recursive: true, force: true });
  }
});

test("SIGHUP (a closed terminal, a dropped ssh session) stops the server as SIGTERM does: 1001, no tree left, exit 0", async () => {
  await using server = await startServer({ args: ["--sandbox", "none"] });
  const client = await connect(server);
  client.send({ type: "exec", id: "long", cmd: "sleep 108 & sleep 108" });
  await client.next((m) => m.type === "started");
  const tree = descendantsOf(server.pid);
  expect(tree.length).toBeGreaterThan(0);
  const stopped = server.nextStderr(/stopped/);
  server.process.kill("SIGHUP");
  expect(await server.process.exited).toBe(0);
  await stopped;
  expect((await client.closed).code).toBe(1001);
  expect(tree.filter(isAlive)).toEqual([]);
});

test.each([
  ["read to the listening line, then closed", false],
  ["never read after the listening line until the pipe is full, then closed (a flush was waiting)", true],
])("a stderr whose reader went away costs the log, not the server (%s): commands still run, SIGTERM still exits 0", async (_, fillFirst) => {
  // Not startServer: its reader of stderr never lets go.
  const workspaceRoot = mkdtempSync(join(tmpdir(), "bunker-test-ws-"));
  const proc = Bun.spawn([process.execPath, "src/main.ts", "serve", "--port", "0", "--no-auth", "--sandbox", "none", "--workspace-root", workspaceRoot], { stderr: "pipe", stdout: "ignore" });
  try {
    const reader = proc.stderr.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!/listening on ws:\/\/[^:]+:(\d+)\//.test(text)) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`the server exited before listening: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
    const port = Number(/listening on ws:\/\/[^:]+:(\d+)\//.exec(text)![1]);
    await using client = await connect({ url: `ws://127.0.0.1:${port}/ws`, token: undefined });
    if (fillFirst) {
      // Two audit lines an exec, unread: the pipe (64 KiB) fills and the server's flush waits.
      for (let round = 0; round < 400; round++) await client.exec({ id: `fill-${round}`, argv: ["true"] });
    }
    // Closes the pipe's only reader: every later log line meets EPIPE (the first ended the server,
    // and so did a flush that was waiting when the reader went away).
    await reader.cancel();
    for (const round of [1, 2, 3]) expect((await client.exec({ id: `after-${round}`, argv: ["echo", "logged"] })).stdout).toBe("logged\n");
    expect(proc.exitCode).toBeNull();
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill("SIGKILL");
    rmSync(workspaceRoot, { recursive: true, force: true });
  }
});

test("started with SIGHUP ignored (`nohup bunker serve &`), the server keeps running through a hangup", async () => {
  await using server = await startServer({ command: ["nohup", process.execPath, join(import.meta.dir, "..", "..", "src", "main.ts")], args: ["--sandbox", "none"] });
  await using client = await connect(server);
  server.process.kill("SIGHUP");
  // Answered after the signal: had it stopped the server, the socket would have closed with 1001.
  expect((await client.exec({ id: "after", argv: ["echo", "still"] })).stdout).toBe("still\n");
  expect(server.process.exitCode).toBeNull();
});
