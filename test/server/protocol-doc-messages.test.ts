// docs/PROTOCOL.md held against a real server, message by message: the fields of each message,
// the error of each misuse, and the limits it states.
import { describe, expect, test } from "bun:test";
import { decodeOutputHeader, decodeServerMessage, type ServerMessage } from "../../src/protocol/index.ts";
import { connect, type BinaryFrame } from "../helpers/client.ts";
import { replyOf, roundTrip } from "../helpers/round-trip.ts";
import { useSharedServer } from "../helpers/shared-server.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

type Output = Extract<ServerMessage, { type: "output" }>;
type Received = ServerMessage | BinaryFrame;

describe.skipIf(noBwrap)("docs/PROTOCOL.md, message by message, against a real server", () => {
  const shared = useSharedServer();

  test("hello has exactly the documented fields: a 22-character session id, 32-character resume and view secrets, a 12-character connection id, and the policy", () => {
    const { hello } = shared.client;
    expect(Object.keys(hello).sort()).toEqual(["connection", "detachTtlMs", "execs", "host", "maxFrameBytes", "maxMessagesPerSecond", "protocol", "resumeSecret", "resumed", "sandbox", "session", "type", "version", "viewSecret", "workspace"]);
    expect(hello.connection).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(hello).toMatchObject({ type: "hello", protocol: 1, resumed: false, execs: [] });
    expect(hello.session).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(hello.resumeSecret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(hello.viewSecret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(hello.sandbox.backend).toBe("bwrap");
    expect(Object.keys(hello.sandbox.policy!).sort()).toEqual(["allowRead", "allowWrite", "denyRead", "protect", "rlimits", "seccomp", "tmpSizeBytes", ...(hello.sandbox.policy!.runAs ? ["runAs"] : [])].sort());
    expect(hello.sandbox.policy!.protect.slice(0, 2)).toEqual([".git/hooks", ".git/config"]);
    expect(decodeServerMessage(JSON.stringify(hello))).toEqual({ ok: true, message: hello });
  });

  test("a named session's hello adds name, and its id is the name", async () => {
    const name = `named-${crypto.randomUUID()}`;
    await using first = await connect(shared.server, { query: { name } });
    await using second = await connect(shared.server, { query: { name } });
    expect(first.hello).toMatchObject({ session: name, name, resumed: false, execs: [] });
    expect(second.hello).toMatchObject({ session: name, name, resumed: true, resumeSecret: first.hello.resumeSecret });
  });

  test("started, output and exit carry exactly the documented fields", async () => {
    const run = await shared.client.exec({ id: "fields", argv: ["echo", "hi"] });
    expect(run.messages).toEqual([
      { type: "started", id: "fields", pid: expect.any(Number) },
      { type: "output", id: "fields", stream: "stdout", offset: 0, data: "hi\n" },
      { type: "exit", id: "fields", code: 0, signal: null, reason: "exited", durationMs: expect.any(Number) },
    ]);
  });

  test("a PTY exec's started echoes its size", async () => {
    shared.client.send({ type: "exec", id: "pty-size", argv: ["true"], pty: { cols: 120, rows: 40 } });
    expect(await replyOf(shared.client, "pty-size")).toEqual({ type: "started", id: "pty-size", pid: expect.any(Number), pty: { cols: 120, rows: 40 } });
    expect((await shared.client.runToExit("pty-size")).exit).toMatchObject({ code: 0 });
  });

  test("a persistent shell's command: started names the shell, exit carries its cwd, and ExecInfo names the shell", async () => {
    const shell = `sh-${crypto.randomUUID().slice(0, 8)}`;
    await shared.client.exec({ id: "shell-mk", argv: ["mkdir", "-p", "sub"] });
    const run = await shared.client.exec({ id: "shell-cd", cmd: "cd sub", shell });
    expect(run.messages[0]).toEqual({ type: "started", id: "shell-cd", pid: expect.any(Number), shell });
    expect(run.exit).toEqual({ type: "exit", id: "shell-cd", code: 0, signal: null, reason: "exited", durationMs: expect.any(Number), cwd: `${shared.client.hello.workspace}/sub` });
    shared.client.send({ type: "list", id: "shell-list" });
    const listed = (await replyOf(shared.client, "shell-list")) as Extract<ServerMessage, { type: "execs" }>;
    expect(listed.execs.find((exec) => exec.id === "shell-cd")).toMatchObject({ cmd: "cd sub", shell, state: "exited", exit: { cwd: `${shared.client.hello.workspace}/sub` } });
  });

  test("a persistent shell: network: false restates a shell without network, 16 commands may wait, and a signal that ends the shell ends them unrun", async () => {
    const client = shared.client;
    const shell = `queue-${crypto.randomUUID().slice(0, 8)}`;
    await client.exec({ id: "q-start", cmd: "true", shell });
    expect((await client.exec({ id: "q-nonet", cmd: "echo hi", shell, network: false })).stdout).toBe("hi\n");
    client.send({ type: "exec", id: "q-0", cmd: "sleep 30", shell });
    await replyOf(client, "q-0");
    for (let index = 1; index <= 17; index++) client.send({ type: "exec", id: `q-${index}`, cmd: "true", shell });
    for (let index = 1; index <= 16; index++) {
      expect(await replyOf(client, `q-${index}`)).toEqual({ type: "started", id: `q-${index}`, pid: expect.any(Number), shell });
    }
    expect(await replyOf(client, "q-17")).toEqual({
      type: "error",
      id: "q-17",
      code: "limit_exceeded",
      message: "the shell already holds 16 commands waiting for the one it runs; wait for their exits",
    });
    client.send({ type: "signal", id: "q-0", signal: "SIGKILL" });
    for (let index = 0; index <= 16; index++) {
      expect(await replyOf(client, `q-${index}`)).toMatchObject({ type: "exit", code: null, signal: "SIGKILL", reason: "killed" });
    }
  });

  test("an exec resent with its fields in another order and an unknown field gets state; a default given outright is another request", async () => {
    await shared.client.exec({ id: "resent", argv: ["echo", "once"], env: { A: "1", B: "2" } });
    shared.client.send({ future: true, env: { A: "1", B: "2" }, argv: ["echo", "once"], id: "resent", type: "exec" });
    expect(await replyOf(shared.client, "resent")).toMatchObject({ type: "state", id: "resent", exec: { state: "exited", argv: ["echo", "once"], bytes: { stdout: 5, stderr: 0 } } });
    const different = 'exec id "resent" was already used in this session for a different request';
    for (const changed of [{ stdin: false }, { env: { B: "2", A: "1" } }]) {
      shared.client.send({ type: "exec", id: "resent", argv: ["echo", "once"], env: { A: "1", B: "2" }, ...changed });
      expect(await replyOf(shared.client, "resent")).toEqual({ type: "error", id: "resent", code: "duplicate_id", message: different });
    }
  });

  test("each message naming an exec the session does not have is unknown_exec, with the message type in its text", async () => {
    const messages = [
      { type: "stdin", id: "ghost", data: "x" },
      { type: "signal", id: "ghost", signal: "SIGTERM" },
      { type: "resize", id: "ghost", cols: 10, rows: 10 },
      { type: "attach", id: "ghost" },
      { type: "detach", id: "ghost" },
      { type: "ack", id: "ghost", offset: 0 },
    ];
    for (const message of messages) {
      shared.client.send(message);
      expect(await replyOf(shared.client, "ghost")).toEqual({ type: "error", id: "ghost", code: "unknown_exec", message: `no exec with id "ghost" in this session (${message.type})` });
    }
  });

  test("stdin after eof is invalid_state, for a pipe and for a PTY, and a resize without a terminal is too", async () => {
    for (const exec of [{ id: "eof-pipe", argv: ["cat"], stdin: true }, { id: "eof-pty", argv: ["cat"], pty: { cols: 80, rows: 24 } }]) {
      shared.client.send({ type: "exec", ...exec });
      await replyOf(shared.client, exec.id);
      if (exec.id === "eof-pipe") {
        shared.client.send({ type: "resize", id: exec.id, cols: 10, rows: 10 });
        expect(await replyOf(shared.client, exec.id)).toEqual({ type: "error", id: exec.id, code: "invalid_state", message: `exec "${exec.id}" has no terminal to resize: start it with pty` });
      }
      // A terminal's ^D ends input at the start of a line only: the PTY's line ends before it.
      shared.client.send({ type: "stdin", id: exec.id, data: exec.id === "eof-pty" ? "a\r" : "a", eof: true });
      shared.client.send({ type: "stdin", id: exec.id, data: "b" });
      const refused = await shared.client.next((m) => m.type === "error" && m.id === exec.id);
      expect(refused).toMatchObject({ code: "invalid_state" });
      expect((await shared.client.runToExit(exec.id)).exit).toMatchObject({ code: 0, reason: "exited" });
    }
  });

  test("attach past what a stream produced is bad_message naming the offset; detach and ack of an exec not received do nothing", async () => {
    await shared.client.exec({ id: "short", argv: ["echo", "ab"] });
    shared.client.send({ type: "attach", id: "short", offsets: { stdout: 4 } });
    expect(await replyOf(shared.client, "short")).toEqual({ type: "error", id: "short", code: "bad_message", message: "offsets.stdout: 4 is past the 3 bytes the exec has produced" });
    shared.client.send({ type: "detach", id: "short" });
    shared.client.send({ type: "ack", id: "short", offset: 3 });
    await roundTrip(shared.client);
    expect(shared.client.takeQueued((m) => "id" in m && m.id === "short")).toEqual([]);
    // An attach from the end of both streams sends the exit alone.
    shared.client.send({ type: "attach", id: "short", offsets: { stdout: 3, stderr: 0 } });
    expect(await replyOf(shared.client, "short")).toMatchObject({ type: "exit", id: "short", code: 0 });
  });

  test("list echoes its id, and a list without one gets execs without one", async () => {
    shared.client.send({ type: "list" });
    const reply = await shared.client.next((m) => m.type === "execs");
    expect(Object.keys(reply).sort()).toEqual(["execs", "type"]);
  });

  test("a frame nested deeper than 64 levels gets bad_message without id, even when its id is readable", async () => {
    shared.client.sendRaw(`{"type":"exec","id":"deep","argv":["true"],"future":${"[".repeat(65)}${"]".repeat(65)}}`);
    expect(await shared.client.next((m) => m.type === "error")).toEqual({ type: "error", code: "bad_message", message: "the frame nests arrays and objects deeper than 64 levels" });
    // 64 levels, counting the message's own object, are fine: unknown fields are ignored.
    const run = await shared.client.exec({ id: "not-deep", argv: ["true"], future: JSON.parse(`${"[".repeat(63)}${"]".repeat(63)}`) });
    expect(run.exit).toMatchObject({ code: 0 });
  });

  test("attach with encoding binary sends a header frame laid out as documented, then the raw bytes, per chunk", async () => {
    await shared.client.exec({ id: "bin", cmd: "printf abc; printf de >&2" });
    shared.client.send({ type: "attach", id: "bin", encoding: "binary" });
    const frames: Received[] = [];
    for (;;) {
      const message: Received = await shared.client.next((m) => (m as Received).type === "binary" || ("id" in m && m.id === "bin"));
      frames.push(message);
      if (message.type === "exit") break;
    }
    const pairs: { header: ReturnType<typeof decodeOutputHeader>; text: string }[] = [];
    for (let index = 0; index + 1 < frames.length; index += 2) {
      const header = frames[index] as BinaryFrame;
      // 11 fixed bytes and the id's 3: a chunk under 16 KiB gets no padding.
      expect(header.bytes.byteLength).toBe(14);
      pairs.push({ header: decodeOutputHeader(header.bytes), text: new TextDecoder().decode((frames[index + 1] as BinaryFrame).bytes) });
    }
    expect(pairs.sort((a, b) => a.header!.stream.localeCompare(b.header!.stream))).toEqual([
      { header: { id: "bin", stream: "stderr", offset: 0 }, text: "de" },
      { header: { id: "bin", stream: "stdout", offset: 0 }, text: "abc" },
    ]);
  });

  test("no output message or binary payload carries more than 64 KiB, offsets run on, and headers of chunks from 16 KiB are padded to 64 bytes", async () => {
    const total = 300_000;
    for (const encoding of ["utf8", "base64", "binary"] as const) {
      const id = `chunks-${encoding}`;
      shared.client.send({ type: "exec", id, cmd: `head -c ${total} /dev/zero | tr '\\0' a`, encoding });
      let offset = 0;
      for (;;) {
        const message = (await shared.client.next((m) => (m as Received).type === "binary" || ("id" in m && m.id === id))) as Received;
        if (message.type === "exit") break;
        if (message.type === "started") continue;
        let bytes: number;
        if (message.type === "binary") {
          const header = message.bytes;
          expect(decodeOutputHeader(header)).toEqual({ id, stream: "stdout", offset });
          const payload = (await shared.client.next((m) => (m as Received).type === "binary")) as unknown as BinaryFrame;
          bytes = payload.bytes.byteLength;
          expect(header.byteLength).toBe(bytes >= 16 * 1024 ? 64 : 11 + id.length);
        } else {
          expect(message).toMatchObject({ type: "output", id, stream: "stdout", offset });
          const data = (message as Output).data;
          bytes = encoding === "base64" ? Buffer.from(data, "base64").byteLength : data.length;
        }
        expect(bytes).toBeGreaterThan(0);
        expect(bytes).toBeLessThanOrEqual(64 * 1024);
        offset += bytes;
      }
      expect(offset).toBe(total);
    }
  });

  test("ackWindowBytes is at most 64 MiB, on exec and on attach alike", async () => {
    const tooLarge = 64 * 1024 * 1024 + 1;
    shared.client.send({ type: "exec", id: "window", argv: ["echo", "w"], ackWindowBytes: tooLarge });
    expect(await replyOf(shared.client, "window")).toEqual({ type: "error", id: "window", code: "bad_message", message: "ackWindowBytes: must be <= 67108864" });
    await shared.client.exec({ id: "window", argv: ["echo", "w"] });
    shared.client.send({ type: "attach", id: "window", ackWindowBytes: tooLarge });
    expect(await replyOf(shared.client, "window")).toEqual({ type: "error", id: "window", code: "bad_message", message: "ackWindowBytes: must be <= 67108864" });
  });

  test("acks: one past what was sent counts as what was sent, one below an earlier ack is ignored, and an attach without a window is not held", async () => {
    const client = shared.client;
    const window = 1024;
    client.send({ type: "exec", id: "acks", cmd: "head -c 4096 /dev/zero | tr '\\0' a", ackWindowBytes: window });
    expect(await replyOf(client, "acks")).toMatchObject({ type: "started" });
    let position = 0;
    /** Takes `bytes` more of output, then checks after a round trip that nothing more was sent. */
    const receive = async (bytes: number) => {
      const end = position + bytes;
      while (position < end) {
        const message = await replyOf(client, "acks");
        expect(message).toMatchObject({ type: "output", offset: position });
        position += (message as Output).data.length;
      }
      expect(position).toBe(end);
      await roundTrip(client);
      expect(client.takeQueued((m) => "id" in m && m.id === "acks")).toEqual([]);
    };
    await receive(window);
    client.send({ type: "ack", id: "acks", stream: "stdout", offset: 1_000_000 });
    await receive(window);
    client.send({ type: "ack", id: "acks", stream: "stdout", offset: 500 });
    await receive(0);
    // The exec's window does not carry over to an attach that gives none.
    client.send({ type: "detach", id: "acks" });
    client.send({ type: "attach", id: "acks" });
    const replay = await client.runToExit("acks");
    expect(replay.stdout).toBe("a".repeat(4096));
    expect(replay.exit).toMatchObject({ code: 0 });
  });

  test("the exec's ackWindowBytes holds the socket that sent it; another socket joined at the start is sent freely", async () => {
    const name = `acks-${crypto.randomUUID()}`;
    await using agent = await connect(shared.server, { query: { name } });
    await using viewer = await connect(shared.server, { query: { name } });
    const window = 64 * 1024;
    const total = 200_000;
    agent.send({ type: "exec", id: "acked", cmd: `head -c ${total} /dev/zero | tr '\\0' a`, ackWindowBytes: window });
    // The viewer never acks, and still gets every byte and the exit.
    const seen = await viewer.runToExit("acked");
    expect(seen.stdout.length).toBe(total);
    await roundTrip(agent);
    const held = agent.takeQueued((m) => "id" in m && m.id === "acked");
    expect(held.map((m) => m.type as string)).toEqual(["started", ...held.slice(1).map(() => "output")]);
    let received = held.filter((m): m is Output => m.type === "output").reduce((sum, m) => sum + m.data.length, 0);
    expect(received).toBe(window);
    for (;;) {
      agent.send({ type: "ack", id: "acked", stream: "stdout", offset: received });
      const message = await replyOf(agent, "acked");
      if (message.type === "exit") break;
      expect(message).toMatchObject({ type: "output", offset: received });
      received += (message as Output).data.length;
    }
    expect(received).toBe(total);
  });
});

