// `connect(url, { reconnect })`: the session object resumes its session by itself after a drop.
// A real server, reached through TCP relays that the tests cut (a network drop: no close frame,
// 1006 at both ends), keep shut, or stall one way.
import { afterAll, describe, expect, test } from "bun:test";
import { heapStats } from "bun:jsc";
import { BunkerError, connect } from "../../src/client/index.ts";
import { startHoldingProxy } from "../helpers/holding-proxy.ts";
import { startLaggingProxy } from "../helpers/lagging-proxy.ts";
import { createRandom } from "../helpers/random.ts";
import { readUntil } from "../helpers/read-until.ts";
import { startServer } from "../helpers/server-process.ts";
import { settled } from "../helpers/settled.ts";
import { sha256Hex } from "../helpers/sha256.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { watchReconnects } from "./reconnect-events.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

const through = (port: number) => `ws://127.0.0.1:${port}/ws`;

/** The output of `seq 1 count`, as sha256 and length, made here in pieces. */
function sequenceDigest(count: number): { sha256: string; length: number } {
  const hasher = new Bun.CryptoHasher("sha256");
  let length = 0;
  for (let from = 1; from <= count; from += 100_000) {
    let piece = "";
    for (let i = from; i < Math.min(from + 100_000, count + 1); i++) piece += `${i}\n`;
    hasher.update(piece);
    length += piece.length;
  }
  return { sha256: hasher.digest("hex"), length };
}

const sequence = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`).join("");

describe("reconnect: output", () => {
  test("a 50 MB stream with an ack window, its connection cut twice mid-way, comes whole and byte-exact through the same handle", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    await using session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    const count = 6_500_000;
    const handle = session.exec(["seq", "1", String(count)], { ackWindowBytes: 1 << 20 });
    const cutsAt = [10_000_000, 30_000_000];
    const hasher = new Bun.CryptoHasher("sha256");
    let received = 0;
    for await (const chunk of handle.stdout) {
      hasher.update(chunk);
      received += chunk.byteLength;
      if (cutsAt.length > 0 && received >= cutsAt[0]!) {
        cutsAt.shift();
        proxy.dropAll();
      }
    }
    expect(await handle.exited).toMatchObject({ code: 0, reason: "exited" });
    const expected = sequenceDigest(count);
    expect({ sha256: hasher.digest("hex"), length: received }).toEqual(expected);
    expect(received).toBeGreaterThan(50_000_000);
    expect(handle.stdout.gaps).toEqual([]);
    // Each cut came back at the first attempt, made at once.
    expect(watch.reconnected.map((event) => event.attempts)).toEqual([1, 1]);
    expect(watch.reconnecting).toHaveLength(2);
    expect(watch.reconnecting[0]).toMatchObject({ attempt: 1, delayMs: 0, lastError: undefined, cause: { code: "connection_closed", closeCode: 1006 } });
    expect(watch.reconnected[1]!.hello).toMatchObject({ resumed: true, session: session.id });
    expect(session.reconnecting).toBe(false);
  }, 60_000);

  test("without an ack window, bytes the server no longer held come as a gap, as for a manual attach, and the rest exactly", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    await using session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    // It waits for a line on stdin between the two halves, so the cut falls between them.
    const handle = session.exec(["sh", "-c", "seq 1 100000; read go; seq 100001 2000000"], { stdin: true });
    const reader = handle.stdout[Symbol.asyncIterator]();
    const head = await readUntil(reader, "\n100000\n");
    proxy.cut();
    await watch.attempts(1);
    // Meanwhile another connection of the session lets the command run to its end, far past what
    // the server keeps (its 1 MiB log): the dropped socket's hold ends when it attaches.
    await using other = await connect(server.url, { token: server.token!, resume: session.resume });
    const runner = other.attach(handle.id);
    await runner.write("go\n");
    runner.stdout.discard();
    expect(await runner.exited).toMatchObject({ code: 0 });
    proxy.setOpen(true);

    let rest = "";
    const decoder = new TextDecoder();
    for (let next = await reader.next(); !next.done; next = await reader.next()) rest += decoder.decode(next.value, { stream: true });
    expect(await handle.exited).toMatchObject({ code: 0 });
    const whole = sequence(1, 2_000_000);
    expect(handle.stdout.gaps).toHaveLength(1);
    const [gap] = handle.stdout.gaps;
    expect(gap!.from).toBe(head.length);
    expect(gap!.to).toBe(whole.length - (1 << 20));
    // The bytes around the gap are exactly the command's.
    expect(head + rest).toBe(whole.slice(0, gap!.from) + whole.slice(gap!.to));
  }, 60_000);
});

describe("reconnect: execs", () => {
  test("an exec sent just before the cut and one sent during the outage each run exactly once", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    await using session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    const before = session.exec(["sh", "-c", "echo run >> before.txt; echo ran"]);
    proxy.cut();
    await watch.attempts(1);
    expect(session.reconnecting).toBe(true);
    const during = session.exec(["sh", "-c", "echo run >> during.txt; echo ran"]);
    proxy.setOpen(true);

    for (const handle of [before, during]) {
      expect(await handle.started).toMatchObject({ pid: expect.any(Number) });
      expect(await handle.stdout.readAllText()).toBe("ran\n");
      expect(await handle.exited).toMatchObject({ code: 0 });
    }
    expect(await session.files.read("before.txt")).toBe("run\n");
    expect(await session.files.read("during.txt")).toBe("run\n");
    expect(watch.reconnected).toHaveLength(1);
  }, 30_000);

  test("an exec the server already has (its started lost with the socket) is not run again: the resent exec gets its state, the handle its output and exit", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    await using session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    proxy.cut();
    await watch.attempts(1);
    const command = ["sh", "-c", "echo run >> state.txt; echo ran; exit 4"];
    const handle = session.exec(command, { id: "ran-while-away" });
    // What the server would have if the exec had reached it before the cut: it ran, from another socket here.
    await using other = await connect(server.url, { token: server.token!, resume: session.resume });
    expect(await other.exec(command, { id: "ran-while-away" }).exited).toMatchObject({ code: 4 });
    proxy.setOpen(true);

    expect(await handle.started).toMatchObject({ pid: expect.any(Number) });
    expect(await handle.stdout.readAllText()).toBe("ran\n");
    expect(await handle.exited).toMatchObject({ code: 4 });
    expect(await session.files.read("state.txt")).toBe("run\n");
  }, 30_000);
});

describe("reconnect: stdin, signals and requests", () => {
  test("stdin written during the outage arrives once and in order, and a signal sent then arrives after the resume", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    await using session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    const cat = session.exec(["cat"], { stdin: true, ackWindowBytes: 1 << 20 });
    const sleeper = session.exec(["sh", "-c", "exec sleep 100"]);
    await sleeper.started;
    const output = cat.stdout[Symbol.asyncIterator]();
    await cat.write("before\n");
    await readUntil(output, "before\n");
    proxy.cut();
    await watch.attempts(1);
    const writes = [cat.write("during-1\n"), cat.write("during-2\n")];
    expect(sleeper.signal("SIGTERM")).toBe(true);
    proxy.setOpen(true);
    await Promise.all(writes);
    await cat.end("after\n");

    let rest = "";
    for (let next = await output.next(); !next.done; next = await output.next()) rest += new TextDecoder().decode(next.value);
    expect(rest).toBe("during-1\nduring-2\nafter\n");
    expect(await cat.exited).toMatchObject({ code: 0 });
    expect(await sleeper.exited).toMatchObject({ signal: "SIGTERM", reason: "killed" });
  }, 30_000);

  test("16 MB of stdin arrives exactly across cuts that lose bytes handed to the dead connection", async () => {
    await using proxy = await startLaggingProxy(server.port);
    const watch = watchReconnects();
    await using session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    const input = createRandom(20_261_128).bytes(16_000_000);
    const handle = session.exec(["sh", "-c", "tee stdin.bin | sha256sum; wc -c < stdin.bin; rm stdin.bin"], { stdin: true });
    const writing = handle.end(input);
    // Each cut once another 1.5 MB has passed; a lagged one first keeps back the newest 128 KiB the
    // client handed over, never to arrive.
    const lagged = [true, false, true];
    for (const [i, lag] of lagged.entries()) {
      await proxy.passed(1_500_000);
      if (lag) expect(await Promise.race([proxy.lag(128 * 1024).then(() => "kept back"), handle.exited.then(() => "exited")])).toBe("kept back");
      proxy.dropAll();
      await watch.backs(i + 1);
    }
    await writing;
    expect(await handle.stdout.readAllText()).toBe(`${sha256Hex(input)}  -\n${input.byteLength}\n`);
    expect(await handle.exited).toMatchObject({ code: 0 });
  }, 60_000);

  test("a connection the keepalive gives up on (a stalled relay) is replaced: stdin it still held never arrives twice", async () => {
    await using proxy = await startHoldingProxy(server.port);
    const watch = watchReconnects();
    await using session = await connect(through(proxy.port), { token: server.token!, keepalive: { idleMs: 200, timeoutMs: 1000 }, reconnect: watch.option });
    const cat = session.exec(["cat"], { stdin: true });
    const output = cat.stdout[Symbol.asyncIterator]();
    await cat.write("one\n");
    await readUntil(output, "one\n");
    proxy.hold();
    await cat.write("two\n");
    await proxy.held(1);
    await watch.backs(1);
    expect(watch.reconnecting[0]!.cause).toMatchObject({ code: "connection_closed", closeCode: 1006, message: expect.stringContaining("keepalive") });
    // The relay now hands on what it held; the server cut that socket before greeting the new one.
    await proxy.release();
    await cat.end("three\n");
    let rest = "";
    for (let next = await output.next(); !next.done; next = await output.next()) rest += new TextDecoder().decode(next.value);
    expect(rest).toBe("two\nthree\n");
    expect(await cat.exited).toMatchObject({ code: 0 });
  }, 30_000);

  test("a file request in flight at the drop rejects with connection_closed; one made during the outage is sent once back", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    await using session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    await session.files.write("here.txt", "here\n");
    const inFlight = session.files.read("here.txt");
    proxy.cut();
    const error = await inFlight.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BunkerError);
    expect(error).toMatchObject({ code: "connection_closed", closeCode: 1006, message: expect.stringContaining("the session is reconnecting") });
    await watch.attempts(1);
    const during = session.files.read("here.txt");
    const listed = session.list();
    proxy.setOpen(true);
    expect(await during).toBe("here\n");
    expect(Array.isArray(await listed)).toBe(true);
  }, 30_000);

  test("revokeViewers() made during an outage is sent once back; the resumed hello carries a revoke made meanwhile by another client", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    const session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    const other = await connect(server.url, { token: server.token!, resume: session.resume });
    const viewer = await connect(server.url, { view: session.view! });
    proxy.cut();
    await watch.attempts(1);
    // Another client revokes while this one is away: it never hears the view.revoked.
    const meanwhile = await other.revokeViewers();
    expect(meanwhile.viewersCut).toBe(1);
    expect((await viewer.closed).code).toBe(4404);
    // A revoke asked for now waits for the session, as list() does, rather than fail at once.
    const asked = session.revokeViewers();
    proxy.setOpen(true);
    await watch.backs(1);
    expect(watch.reconnected[0]!.hello.viewSecret).toBe(meanwhile.view.secret);
    const revoked = await asked;
    expect(revoked.viewersCut).toBe(0);
    expect(revoked.view.secret).not.toBe(meanwhile.view.secret);
    expect(session.view).toEqual(revoked.view);
    await other.list();
    expect(other.view).toEqual(revoked.view);
    await other.disconnect();
    await session.close();
  }, 30_000);
});

describe("reconnect: memory", () => {
  /** This process's JavaScript heap and the buffers it owns, after a full collection, in bytes. */
  const heldBytes = () => {
    Bun.gc(true);
    const stats = heapStats();
    return stats.heapSize + stats.extraMemorySize;
  };

  test("what a handle keeps of its stdin for a resume is let go once it exits or is detached", async () => {
    await using session = await connect(server.url, { token: server.token!, reconnect: true });
    const input = new Uint8Array(9_000_000);
    const before = heldBytes();
    // Handles a program keeps after their exits, and handles it detached and let go (the session
    // keeps those): none of them can send stdin again.
    const finished = [];
    for (let i = 0; i < 4; i++) {
      const handle = session.exec(["sh", "-c", "cat > /dev/null"], { stdin: true });
      await handle.end(input);
      expect(await handle.exited).toMatchObject({ code: 0 });
      finished.push(handle);
    }
    for (let i = 0; i < 4; i++) {
      const handle = session.exec(["sh", "-c", "cat > /dev/null; exec sleep 100"], { stdin: true });
      await handle.end(input);
      handle.detach();
    }
    // 8 MiB each (the server's stdin bound) were kept: 64 MiB in all.
    const grown = heldBytes() - before;
    expect(grown).toBeLessThan(16_000_000);
    expect(finished).toHaveLength(4);
  }, 30_000);
});

describe("reconnect: leaving", () => {
  test("disconnect() and close() never reconnect", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    const first = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    const sleeper = first.exec(["sh", "-c", "exec sleep 100"]);
    await sleeper.started;
    await first.disconnect();
    expect(await settled(sleeper.exited)).toEqual({ code: "connection_closed" });
    expect(await first.closed).toEqual({ code: 1000, reason: "" });

    const second = await connect(through(proxy.port), { token: server.token!, resume: first.resume, reconnect: watch.option });
    await second.close();
    expect(await second.closed).toMatchObject({ code: 4000 });
    expect(watch.reconnecting).toEqual([]);
    expect(first.reconnecting || second.reconnecting).toBe(false);
  }, 30_000);

  test("disconnect() during an outage stops reconnecting and fails what waits with connection_closed", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    const session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    const sleeper = session.exec(["sh", "-c", "exec sleep 100"]);
    await sleeper.started;
    proxy.cut();
    await watch.attempts(1);
    await session.disconnect();
    expect(await settled(sleeper.exited)).toEqual({ code: "connection_closed" });
    expect(session.reconnecting).toBe(false);
    const attempts = watch.reconnecting.length;
    proxy.setOpen(true);
    // Another session's round trip through the same relay: a reconnect still going would have come back by now.
    await using other = await connect(through(proxy.port), { token: server.token!, resume: session.resume });
    await other.list();
    expect(watch.reconnecting).toHaveLength(attempts);
    expect(watch.reconnected).toEqual([]);
    await other.close();
  }, 30_000);

  test("close() during an outage ends the session once it is back", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    const session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    const sleeper = session.exec(["sh", "-c", "exec sleep 100"]);
    await sleeper.started;
    proxy.cut();
    await watch.attempts(1);
    const closing = session.close();
    proxy.setOpen(true);
    await closing;
    expect(await session.closed).toMatchObject({ code: 4000 });
    expect(await settled(sleeper.exited)).toEqual({ code: "session_closed" });
    expect(await settled(connect(server.url, { token: server.token!, resume: session.resume }))).toEqual({ code: "unknown_session" });
  }, 30_000);
});

describe("without reconnect", () => {
  test("a cut is the end, as before: the exec fails with connection_closed and closed says 1006", async () => {
    await using proxy = await startTcpProxy(server.port);
    const session = await connect(through(proxy.port), { token: server.token! });
    const sleeper = session.exec(["sh", "-c", "exec sleep 100"]);
    await sleeper.started;
    proxy.dropAll();
    expect(await sleeper.exited.catch((e: unknown) => e)).toMatchObject({ code: "connection_closed", closeCode: 1006, message: "the connection closed (1006)" });
    expect(await session.closed).toEqual({ code: 1006, reason: "" });
    expect(session.reconnecting).toBe(false);
  }, 30_000);

  test("bad reconnect options throw a TypeError quoting the value", () => {
    const bad: [unknown, string][] = [
      ["yes", 'connect: reconnect must be true, false or { timeoutMs, onReconnecting, onReconnected }, got "yes"'],
      [{ timeoutMs: -1 }, "connect: reconnect.timeoutMs must be an integer number of milliseconds from 1 to 2147483647, got -1"],
      [{ timeoutMs: "5s" }, 'connect: reconnect.timeoutMs must be an integer number of milliseconds from 1 to 2147483647, got "5s"'],
      [{ timeout: 5000 }, 'connect: reconnect has no option "timeout" (it takes timeoutMs, onReconnecting, onReconnected)'],
      [{ onReconnected: "log" }, 'connect: reconnect.onReconnected must be a function, got "log"'],
    ];
    for (const [reconnect, message] of bad) {
      expect(() => connect(server.url, { reconnect: reconnect as never })).toThrow(new TypeError(message));
    }
  });
});
