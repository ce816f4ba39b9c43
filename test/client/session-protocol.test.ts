// The session against a scripted fake server: the parts of the protocol a real server only shows
// under rare conditions (unknown messages, violations, replays, refusals), checked frame by frame.
import { expect, test } from "bun:test";
import { BunkerError, connect } from "../../src/client/index.ts";
import { encodeOutputHeader } from "../../src/protocol/index.ts";
import { connectFake, createFakeServer, helloMessage } from "./fake-socket.ts";

test("resolves with the session's hello, and offers the token as a subprotocol to a browser-shaped class", async () => {
  const { socket, session } = await connectFake({ hello: { session: "abc", resumeSecret: "xyz" } });
  expect(socket.protocols).toEqual(["bunker.v1", "bunker.token.tok"]);
  expect(socket.binaryType).toBe("arraybuffer");
  expect(session.id).toBe("abc");
  expect(session.resume).toEqual({ session: "abc", secret: "xyz" });
  expect(session.resumed).toBe(false);
});

test("a refused resume rejects with the server's code", async () => {
  const server = createFakeServer();
  const connecting = connect("ws://fake/ws", { resume: { session: "gone", secret: "s" }, WebSocket: server.WebSocket });
  await Promise.resolve();
  expect(server.socket.url).toBe("ws://fake/ws?session=gone");
  server.socket.serverSends({ type: "error", code: "unknown_session", message: "no session" });
  server.socket.serverCloses(4404);
  const error = await connecting.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BunkerError);
  expect(error).toMatchObject({ code: "unknown_session", message: "no session" });
});

test("a hello of another protocol major version is refused", async () => {
  const server = createFakeServer();
  const connecting = connect("ws://fake/ws", { WebSocket: server.WebSocket });
  await Promise.resolve();
  server.socket.serverSends(helloMessage({ protocol: 2 }));
  await expect(connecting).rejects.toMatchObject({ code: "unsupported_protocol" });
  expect(server.socket.closedWith).toEqual({ code: 1002 });
});

test("binary output frames reach the exec's stream byte for byte", async () => {
  const { socket, session } = await connectFake();
  const handle = session.exec(["cat"], { id: "b" });
  expect(socket.sentOfType("exec")).toEqual([{ type: "exec", id: "b", argv: ["cat"], encoding: "binary" }]);
  socket.serverSends({ type: "started", id: "b", pid: 1 });
  socket.serverSendsFrame(encodeOutputHeader({ id: "b", stream: "stdout", offset: 0 }));
  socket.serverSendsFrame(new Uint8Array([0, 255, 10]));
  socket.serverSendsFrame(encodeOutputHeader({ id: "b", stream: "stderr", offset: 0 }));
  socket.serverSendsFrame(new Uint8Array([7]));
  socket.serverSends({ type: "exit", id: "b", code: 0, signal: null, reason: "exited", durationMs: 1 });
  expect(await handle.stdout.readAll()).toEqual(new Uint8Array([0, 255, 10]));
  expect(await handle.stderr.readAll()).toEqual(new Uint8Array([7]));
  expect(await handle.exited).toEqual({ code: 0, signal: null, reason: "exited", durationMs: 1 });
});

test("ignores message types it does not know and goes on", async () => {
  const { socket, session } = await connectFake();
  const handle = session.exec("true", { id: "x", encoding: "utf8" });
  socket.serverSends({ type: "forecast", id: "x", sunny: true });
  socket.serverSends({ type: "output", id: "x", stream: "stdout", offset: 0, data: "ok" });
  socket.serverSends({ type: "exit", id: "x", code: 0, signal: null, reason: "exited", durationMs: 1 });
  expect(await handle.stdout.readAllText()).toBe("ok");
  expect(socket.closedWith).toBeUndefined();
});

test("a message that breaks the protocol closes with 1002 and fails what waits", async () => {
  const { socket, session } = await connectFake();
  const handle = session.exec("true");
  socket.serverSends({ type: "started", id: 42, pid: "x" });
  expect(socket.closedWith).toEqual({ code: 1002, reason: "protocol violation" });
  await expect(handle.exited).rejects.toMatchObject({ code: "protocol_violation" });
  expect(await session.closed).toMatchObject({ code: 1002, violation: expect.stringContaining("id") });
});

test("an error without an id fails the oldest request waiting for a reply", async () => {
  const { socket, session } = await connectFake();
  const listing = session.list();
  socket.serverSends({ type: "error", code: "bad_message", message: "list is not known here" });
  await expect(listing).rejects.toMatchObject({ code: "bad_message" });
});

test("list resolves with the execs of the reply that echoes its id", async () => {
  const { socket, session } = await connectFake();
  const listing = session.list();
  const { id } = socket.sentOfType("list")[0]!;
  const info = { id: "e", argv: ["true"], pty: false, state: "running", pid: 3, startedAt: 1, bytes: { stdout: 0, stderr: 0 } };
  socket.serverSends({ type: "execs", id, execs: [info] });
  expect(await listing).toEqual([info as never]);
});

test("sends no ack for bytes read after the exec has exited", async () => {
  const { socket, session } = await connectFake();
  const handle = session.exec("yes", { id: "y", ackWindowBytes: 4 });
  socket.serverSends({ type: "started", id: "y", pid: 1 });
  socket.serverSendsFrame(encodeOutputHeader({ id: "y", stream: "stdout", offset: 0 }));
  socket.serverSendsFrame(new Uint8Array([121, 121, 121, 121]));
  socket.serverSends({ type: "exit", id: "y", code: 0, signal: null, reason: "exited", durationMs: 1 });
  expect((await handle.stdout.readAll()).byteLength).toBe(4);
  expect(socket.sentOfType("ack")).toEqual([]);
});

test("sends an ack for every half window read while the exec runs", async () => {
  const { socket, session } = await connectFake();
  const handle = session.exec("yes", { id: "y", ackWindowBytes: 4 });
  socket.serverSends({ type: "started", id: "y", pid: 1 });
  for (const offset of [0, 1, 2, 3, 4]) {
    socket.serverSendsFrame(encodeOutputHeader({ id: "y", stream: "stdout", offset }));
    socket.serverSendsFrame(new Uint8Array([121]));
  }
  const iterator = handle.stdout[Symbol.asyncIterator]();
  for (let i = 0; i < 5; i++) await iterator.next();
  expect(socket.sentOfType("ack")).toEqual([
    { type: "ack", id: "y", stream: "stdout", offset: 2 },
    { type: "ack", id: "y", stream: "stdout", offset: 4 },
  ]);
});

test("lets go of an exec another socket started", async () => {
  const { socket } = await connectFake();
  socket.serverSends({ type: "started", id: "theirs", pid: 5 });
  expect(socket.sentOfType("detach")).toEqual([{ type: "detach", id: "theirs" }]);
});

test("a resent exec answered with state attaches from what the handle holds", async () => {
  const { socket, session } = await connectFake();
  const handle = session.exec("echo ran", { id: "once" });
  socket.serverSends({
    type: "state",
    id: "once",
    exec: { id: "once", cmd: "echo ran", pty: false, state: "exited", pid: 9, startedAt: 1, exit: { code: 0, signal: null, reason: "exited", durationMs: 2 }, bytes: { stdout: 4, stderr: 0 } },
  });
  expect(await handle.started).toEqual({ pid: 9 });
  expect(socket.sentOfType("attach")).toEqual([{ type: "attach", id: "once", offsets: { stdout: 0, stderr: 0 }, encoding: "binary" }]);
  socket.serverSendsFrame(encodeOutputHeader({ id: "once", stream: "stdout", offset: 0 }));
  socket.serverSendsFrame(new TextEncoder().encode("ran\n"));
  socket.serverSends({ type: "exit", id: "once", code: 0, signal: null, reason: "exited", durationMs: 2 });
  expect(await handle.stdout.readAllText()).toBe("ran\n");
});

test("an attach the server refuses fails the handle with the server's code", async () => {
  const { socket, session } = await connectFake();
  const handle = session.attach("nope", { stdout: 5 });
  expect(socket.sentOfType("attach")).toEqual([{ type: "attach", id: "nope", offsets: { stdout: 5 }, encoding: "binary" }]);
  socket.serverSends({ type: "error", id: "nope", code: "unknown_exec", message: "no exec" });
  await expect(handle.exited).rejects.toMatchObject({ code: "unknown_exec", execId: "nope" });
  await expect(handle.stdout.readAll()).rejects.toMatchObject({ code: "unknown_exec" });
});

test("an exec refused before started rejects started and exited with the server's code", async () => {
  const { socket, session } = await connectFake();
  const handle = session.exec(["nope"], { id: "n" });
  socket.serverSends({ type: "error", id: "n", code: "spawn_failed", message: "not found" });
  await expect(handle.started).rejects.toMatchObject({ code: "spawn_failed", message: "not found", execId: "n" });
  await expect(handle.exited).rejects.toMatchObject({ code: "spawn_failed" });
  // The id was not used up: it can be given again.
  expect(() => session.exec(["true"], { id: "n" })).not.toThrow();
});

test("close() ends the session: close, closed, then the server's 4000 fails what still runs", async () => {
  const { socket, session } = await connectFake();
  const handle = session.exec("sleep 9", { id: "s" });
  socket.serverSends({ type: "started", id: "s", pid: 1 });
  const closing = session.close();
  expect(socket.sentOfType("close")).toEqual([{ type: "close" }]);
  socket.serverSends({ type: "closed", session: "s1" });
  socket.serverCloses(4000, "session closed");
  await closing;
  await expect(handle.exited).rejects.toMatchObject({ code: "session_closed", closeCode: 4000 });
  expect(await session.closed).toEqual({ code: 4000, reason: "session closed" });
});

test("bad exec options are a TypeError naming the field and quoting the value", async () => {
  const { session } = await connectFake();
  expect(() => session.exec("x", { timeoutMs: -1 })).toThrow(new TypeError("exec: timeoutMs: must be >= 0 (got -1)"));
  expect(() => session.exec([], {})).toThrow(new TypeError("exec: argv: must hold at least the program (got [])"));
  expect(() => session.exec("x", { pty: { cols: 0, rows: 5 } })).toThrow(new TypeError("exec: pty.cols: must be >= 1 (got 0)"));
  // Briefly: 5,000 arguments came back whole, 30 KB on one line.
  const many = Array.from({ length: 5000 }, (_, index) => String(index));
  expect(() => session.exec(["echo", ...many])).toThrow(new TypeError("exec: argv: must have at most 4096 items (got an array of 5001 items)"));
  expect(() => session.exec("x", { cwd: "d".repeat(5000) })).toThrow(new TypeError(`exec: cwd: must be at most 4096 characters (got "${"d".repeat(76)}...)`));
  const handle = session.exec("x");
  expect(() => handle.signal("SIGTSTP" as never)).toThrow(TypeError);
  expect(() => handle.resize({ cols: 2000, rows: 1 })).toThrow(TypeError);
});

test("exec and attach refuse an id that starts with file:, which names the client's file requests, before sending anything", async () => {
  const { socket, session } = await connectFake();
  const reserved = new TypeError('exec: id: ids that start with "file:" are the client\'s file request ids (got "file:1")');
  expect(() => session.exec("true", { id: "file:1" })).toThrow(reserved);
  expect(() => session.attach("file:1")).toThrow(new TypeError('attach: id: ids that start with "file:" are the client\'s file request ids (got "file:1")'));
  expect(socket.sent).toEqual([]);
  // Only the prefix is kept: ids that merely hold it elsewhere are the user's.
  session.exec("true", { id: "my-file:1" });
  session.exec("true", { id: "files:1" });
  expect(socket.sentOfType("exec").map((message) => message["id"])).toEqual(["my-file:1", "files:1"]);
});

test("close() first detaches execs with an ack window, since the server drops acks after close", async () => {
  const { socket, session } = await connectFake();
  session.exec("yes", { id: "windowed", ackWindowBytes: 1024 });
  session.exec("yes", { id: "plain" });
  void session.close();
  expect(socket.sent.slice(-2)).toEqual([{ type: "detach", id: "windowed" }, { type: "close" }]);
  socket.serverCloses(4000, "session closed");
});
