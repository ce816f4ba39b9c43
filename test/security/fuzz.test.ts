/**
 * A live server under 20,000+ malformed, random and adversarial messages from several connections.
 * Every frame a worker sends has one answer that docs/PROTOCOL.md specifies (an `error` with a code
 * and, when the frame had a readable id, that id; `started`, `state` or `execs`; or nothing), and
 * the server answers a socket's messages in order, so each batch's replies are compared with the
 * expected list exactly. Frames that end a connection (invalid UTF-8, broken framing, a frame over
 * the limit, a flood past the rate) go on connections of their own and must get their close code.
 * Meanwhile a control session runs commands and must see every one succeed, and the server's RSS
 * is sampled.
 *
 * Reproducible: the frames come from a seeded PRNG (FUZZ_SEED to try another seed; the seed is in
 * every failure message). The timing of replies does not change what is expected.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect as connectTcp } from "node:net";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { createRandom } from "../helpers/random.ts";

const SEED = Number(process.env["FUZZ_SEED"] ?? 0x5eed_b0c5);
const WORKERS = 8;
const BATCHES = 26;
const BATCH_SIZE = 100;
const RATE = 5000;

type Random = ReturnType<typeof createRandom>;

/** What one frame must get back: a reply of this type (with this code and id), or nothing. */
type Expected = { type: "error"; code: string; id: string | null } | { type: "execs" | "started" | "state"; id: string } | null;
interface Frame {
  data: string | Uint8Array<ArrayBuffer>;
  expect: Expected;
  /** A real exec: its exit must come before its id is used as an exited exec. */
  realExec?: string;
}

const bad = (id: string | null): Expected => ({ type: "error", code: "bad_message", id });
const json = (value: unknown) => JSON.stringify(value);

/** What a worker knows of its own session. */
interface WorkerState {
  index: number;
  realCount: number;
  /** Execs whose exit was seen, with the frame that started them (sent again, it gets `state`). */
  exited: Map<string, string>;
}

/** Frames that a readable id, when there is one, comes back in. */
function malformedFrame(random: Random, tag: string): Frame {
  const id = `${tag}`;
  const makers: (() => Frame)[] = [
    () => ({ data: random.ascii(random.int(0, 40)).replace(/^[\s{["\d-]/, "x"), expect: bad(null) }),
    () => ({ data: json({ type: "exec", id, argv: ["x"] }).slice(0, random.int(1, 20)), expect: bad(null) }),
    () => ({ data: random.pick(["1", "-0.5", '"exec"', "null", "true", "[]", '[{"type":"list"}]']), expect: bad(null) }),
    () => ({ data: json({ id, type: random.pick([5, null, true, "launch", "EXEC", "", ["exec"], { a: 1 }]) }), expect: bad(id) }),
    () => ({ data: json({ id }), expect: bad(id) }),
    () => ({ data: random.bytes(random.int(0, 300)) as Uint8Array<ArrayBuffer>, expect: bad(null) }),
    () => ({ data: "[".repeat(random.int(1000, 60000)), expect: bad(null) }),
    () => {
      const depth = random.int(1000, 60000);
      // Refused before it is parsed, so its id is not read.
      return { data: `{"type":"exec","id":"${id}","argv":${"[".repeat(depth)}${"]".repeat(depth)}}`, expect: bad(null) };
    },
    () => ({ data: json({ type: "exec", id, env: { A: { B: { C: ["deep"] } } }, argv: ["true"] }), expect: bad(id) }),
    () => ({ data: json({ type: random.pick(["stdin", "signal", "exec", "list", "attach"]), id: random.pick(["", "x".repeat(65), "y".repeat(random.int(65, 5000))]) }), expect: bad(null) }),
    () => ({ data: json({ type: "list", id: random.int(0, 9) }), expect: bad(null) }),
  ];
  // Valid-looking messages that break the schema by one field, often with an out-of-range number.
  const broken: (() => [Record<string, unknown>, string?])[] = [
    () => [{ type: "exec", id, argv: "ls" }],
    () => [{ type: "exec", id, argv: [] }],
    () => [{ type: "exec", id, argv: [random.int(0, 9)] }],
    () => [{ type: "exec", id, argv: ["ls"], cmd: "ls" }],
    () => [{ type: "exec", id }],
    () => [{ type: "exec", id, cmd: "" }],
    () => [{ type: "exec", id, argv: ["ls", "a\u0000b"] }],
    () => [{ type: "exec", id, argv: ["ls"], timeoutMs: random.pick([-1, 2_147_483_648, 1.5, Number.MAX_SAFE_INTEGER * 4]) }],
    () => [{ type: "exec", id, argv: ["ls"] }, `,"timeoutMs":1e400`],
    () => [{ type: "exec", id, argv: ["ls"], maxOutputBytes: random.pick([0, -5, 0.25, 2 ** 60]) }],
    () => [{ type: "exec", id, argv: ["ls"], pty: { cols: random.pick([0, 1001, -1, 1.5, "80"]), rows: 24 } }],
    () => [{ type: "exec", id, argv: ["ls"], pty: { cols: 80 } }],
    () => [{ type: "exec", id, argv: ["ls"], env: { A: random.int(0, 9) } }],
    () => [{ type: "exec", id, argv: ["ls"], env: { "A=B": "c" } }],
    () => [{ type: "exec", id, argv: ["ls"], encoding: random.pick(["utf16", "", 1]) }],
    () => [{ type: "exec", id, argv: ["ls"], ackWindowBytes: random.pick([0, -1, 2 ** 40]) }],
    () => [{ type: "exec", id, argv: ["ls"], rlimits: { cpuSeconds: random.pick([0, -1, 1.5]) } }],
    () => [{ type: "exec", id, argv: ["ls"], cwd: "a".repeat(4097) }],
    () => [{ type: "exec", id, cmd: "ls", shell: "bad name" }],
    () => [{ type: "stdin", id }],
    () => [{ type: "stdin", id, data: random.int(0, 9) }],
    () => [{ type: "stdin", id, data: "x", encoding: "hex" }],
    () => [{ type: "signal", id, signal: random.pick(["SIGTSTP", "KILL", "", 9]) }],
    () => [{ type: "signal", id }],
    () => [{ type: "resize", id, cols: random.pick([0, 5000, -3, 2.5]), rows: 10 }],
    () => [{ type: "resize", id, cols: "10", rows: 10 }],
    () => [{ type: "attach", id, offsets: { stdout: random.pick([-1, 0.5, "0"]) } }],
    () => [{ type: "attach", id, encoding: "utf7" }],
    () => [{ type: "ack", id, offset: random.pick([-1, 1.5, null]) }],
    () => [{ type: "ack", id, offset: 1, stream: "stdin" }],
    () => [{ type: "ack", id }],
    () => [{ type: "detach", id: random.pick([7, null, []]) }, undefined],
    () => [{ type: "file.stat", id, path: random.pick([5, null, "a\u0000b"]) }],
    () => [{ type: "file.read", id, path: "x", offset: -1 }],
  ];
  // Strings of up to 900 KB, kept to about one frame in 400 so that the run stays in seconds.
  if (random.next() < 0.005) {
    const huge = random.next() < 0.5 ? { type: "exec", id, argv: ["x".repeat(random.int(100_000, 900_000))], cwd: 5 } : { type: "exec", id, argv: "z".repeat(random.int(100_000, 900_000)) };
    return { data: json(huge), expect: bad(id) };
  }
  const choice = random.int(0, makers.length + broken.length - 1);
  if (choice < makers.length) return makers[choice]!();
  const [message, extra] = broken[choice - makers.length]!();
  const text = json(message);
  const readable = typeof message["id"] === "string" && message["id"].length > 0 && message["id"].length <= 64;
  return { data: extra ? `${text.slice(0, -1)}${extra}}` : text, expect: bad(readable ? (message["id"] as string) : null) };
}

/** Valid messages whose answer the session's state decides: unknown ids, exited execs, refusals, real execs. */
function statefulFrame(random: Random, state: WorkerState, tag: string): Frame {
  const otherWorker = (state.index + random.int(1, WORKERS - 1)) % WORKERS;
  const foreign = random.pick([`w${otherWorker}-r${random.int(0, 40)}`, `control-${random.int(0, 40)}`, `w${state.index}-never`]);
  const exited = [...state.exited.keys()];
  const done = exited.length > 0 ? random.pick(exited) : undefined;
  const makers: (() => Frame)[] = [
    () => ({ data: json({ type: "stdin", id: foreign, data: "x" }), expect: { type: "error", code: "unknown_exec", id: foreign } }),
    () => ({ data: json({ type: "signal", id: foreign, signal: "SIGKILL" }), expect: { type: "error", code: "unknown_exec", id: foreign } }),
    () => ({ data: json({ type: "resize", id: foreign, cols: 80, rows: 24 }), expect: { type: "error", code: "unknown_exec", id: foreign } }),
    () => ({ data: json({ type: "attach", id: foreign }), expect: { type: "error", code: "unknown_exec", id: foreign } }),
    () => ({ data: json({ type: "detach", id: foreign }), expect: { type: "error", code: "unknown_exec", id: foreign } }),
    () => ({ data: json({ type: "ack", id: foreign, offset: 5 }), expect: { type: "error", code: "unknown_exec", id: foreign } }),
    () => ({ data: json({ type: "list", id: tag, junk: JSON.parse(`${"[".repeat(62)}${"]".repeat(62)}`) }), expect: { type: "execs", id: tag } }),
    () => ({ data: json({ type: "list", id: tag, junk: JSON.parse(`${"[".repeat(64)}${"]".repeat(64)}`) }), expect: bad(null) }),
    () => ({ data: json({ type: "list", id: "\ud800" }), expect: { type: "execs", id: "\ud800" } }),
    () => ({ data: json({ type: "exec", id: tag, argv: ["true"], cwd: "../../etc" }), expect: { type: "error", code: "path_outside_workspace", id: tag } }),
    () => ({ data: json({ type: "exec", id: tag, argv: ["true"], cwd: `missing-${tag}` }), expect: { type: "error", code: "not_found", id: tag } }),
    () => ({ data: json({ type: "exec", id: tag, argv: ["true"], network: true }), expect: { type: "error", code: "forbidden_by_policy", id: tag } }),
    () => ({ data: json({ type: "exec", id: tag, argv: ["true"], rlimits: { cpuSeconds: 10 ** 9 } }), expect: { type: "error", code: "forbidden_by_policy", id: tag } }),
  ];
  if (done !== undefined) {
    makers.push(
      () => ({ data: state.exited.get(done)!, expect: { type: "state", id: done } }),
      () => ({ data: json({ type: "exec", id: done, argv: ["false"] }), expect: { type: "error", code: "duplicate_id", id: done } }),
      () => ({ data: json({ type: "stdin", id: done, data: "late" }), expect: { type: "error", code: "invalid_state", id: done } }),
      () => ({ data: json({ type: "signal", id: done, signal: "SIGTERM" }), expect: { type: "error", code: "invalid_state", id: done } }),
      () => ({ data: json({ type: "resize", id: done, cols: 10, rows: 10 }), expect: { type: "error", code: "invalid_state", id: done } }),
      () => ({ data: json({ type: "attach", id: done, offsets: { stdout: 10 ** 9 } }), expect: bad(done) }),
      () => ({ data: json({ type: "attach", id: done }), expect: null }),
      () => ({ data: json({ type: "detach", id: done }), expect: null }),
      () => ({ data: json({ type: "ack", id: done, offset: 1 }), expect: null }),
    );
  }
  return random.pick(makers)();
}

function realExecFrame(random: Random, state: WorkerState): Frame {
  const id = `w${state.index}-r${state.realCount++}`;
  const message = random.pick([{ argv: ["true"] }, { argv: ["echo", random.ascii(8)] }, { cmd: `printf '%s' ${random.int(0, 1e6)}` }, { argv: ["true"], encoding: "binary" }]);
  return { data: json({ type: "exec", id, ...message }), expect: { type: "started", id }, realExec: id };
}

/** A WebSocket that records every message, and can wait until a condition on them holds. */
async function openRecorder(server: TestServer, query = "") {
  const ws = new WebSocket(`${server.url}${query}`, { headers: { authorization: `Bearer ${server.token}` }, protocols: ["bunker.v1"] } as unknown as string[]);
  ws.binaryType = "arraybuffer";
  const received: Record<string, unknown>[] = [];
  let wake = () => {};
  ws.addEventListener("message", (event) => {
    received.push(typeof event.data === "string" ? JSON.parse(event.data) : { type: "binary" });
    wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })));
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error("open failed")), { once: true });
  });
  const until = async (holds: () => boolean, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!holds()) {
      if (Date.now() > deadline) throw new Error(`seed ${SEED}: timed out waiting for ${what}`);
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), Bun.sleep(50)]);
    }
  };
  await until(() => received.length > 0, "hello");
  return { ws, received, closed, until };
}

const REPLY_TYPES = new Set(["error", "execs", "started", "state", "closed"]);

function replyShape(message: Record<string, unknown>): Expected {
  if (message["type"] === "error") return { type: "error", code: String(message["code"]), id: typeof message["id"] === "string" ? message["id"] : null };
  return { type: message["type"] as "execs", id: message["id"] as string };
}

async function runWorker(server: TestServer, index: number): Promise<number> {
  const random = createRandom(SEED + index * 7919);
  const client = await openRecorder(server);
  const state: WorkerState = { index, realCount: 0, exited: new Map() };
  let sent = 0;
  for (let batch = 0; batch < BATCHES; batch++) {
    const frames: Frame[] = [];
    for (let item = 0; item < BATCH_SIZE - 1; item++) {
      const tag = `w${index}-b${batch}-${item}`;
      const roll = random.next();
      frames.push(roll < 0.02 ? realExecFrame(random, state) : roll < 0.45 ? statefulFrame(random, state, tag) : malformedFrame(random, tag));
    }
    const sync = `w${index}-sync-${batch}`;
    frames.push({ data: json({ type: "list", id: sync }), expect: { type: "execs", id: sync } });
    const start = client.received.length;
    for (const frame of frames) client.ws.send(frame.data);
    sent += frames.length;
    const synced = () => client.received.slice(start).some((message) => message["type"] === "execs" && message["id"] === sync);
    await client.until(synced, `batch ${batch} of worker ${index}`);
    const replies = client.received.slice(start).filter((message) => REPLY_TYPES.has(String(message["type"]))).map(replyShape);
    const expected = frames.map((frame) => frame.expect).filter((reply) => reply !== null);
    if (JSON.stringify(replies) !== JSON.stringify(expected)) {
      const at = replies.findIndex((reply, position) => JSON.stringify(reply) !== JSON.stringify(expected[position]));
      const frame = frames.filter((item) => item.expect !== null)[at];
      throw new Error(
        `seed ${SEED}, worker ${index}, batch ${batch}: reply ${at} is ${JSON.stringify(replies[at])}, expected ${JSON.stringify(expected[at])} for ${String(frame?.data).slice(0, 200)}`,
      );
    }
    const real = frames.filter((frame) => frame.realExec !== undefined);
    const exitedNow = () => real.every((frame) => client.received.some((message) => message["type"] === "exit" && message["id"] === frame.realExec));
    await client.until(exitedNow, `exits in batch ${batch} of worker ${index}`);
    for (const frame of real) state.exited.set(frame.realExec!, frame.data as string);
  }
  client.ws.close();
  await client.closed;
  return sent;
}

/** One raw WebSocket frame, masked as a client must (unless told not to). */
function rawFrame(opcode: number, payload: Uint8Array, options: { masked?: boolean; rsv?: number } = {}): Buffer {
  const masked = options.masked ?? true;
  const head = [0x80 | (options.rsv ?? 0) | opcode];
  const length = payload.length;
  const maskBit = masked ? 0x80 : 0;
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) head.push(maskBit | 126, length >> 8, length & 0xff);
  else head.push(maskBit | 127, 0, 0, 0, 0, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  const key = [0x12, 0x34, 0x56, 0x78];
  const body = masked ? payload.map((byte, position) => byte ^ key[position % 4]!) : payload;
  return Buffer.concat([Buffer.from(head), masked ? Buffer.from(key) : Buffer.alloc(0), Buffer.from(body)]);
}

/** Upgrades over raw TCP, sends the bytes, and resolves with the close code the server sent (null: none). */
function rawCloseCode(server: TestServer, bytes: Buffer): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = connectTcp(server.port, "127.0.0.1", () => {
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${server.token}\r\n\r\n`,
      );
    });
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        socket.write(bytes);
      }
    });
    const finish = () => {
      // Server frames: skip text frames (hello, errors) to the close frame.
      let offset = 0;
      while (offset + 2 <= buffer.length) {
        const opcode = buffer[offset]! & 0x0f;
        let length = buffer[offset + 1]! & 0x7f;
        let start = offset + 2;
        if (length === 126) (length = buffer.readUInt16BE(start)), (start += 2);
        else if (length === 127) (length = Number(buffer.readBigUInt64BE(start))), (start += 8);
        if (opcode === 0x8) return resolve(length >= 2 ? buffer.readUInt16BE(start) : null);
        offset = start + length;
      }
      resolve(null);
    };
    socket.on("close", finish);
    socket.on("error", () => {});
    setTimeout(() => socket.destroy(), 5000);
  });
}

/** The server's RSS; 0 once it is gone, so that a sampler still running after a failed test cannot throw into the next file's tests. */
function rssBytes(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return 0;
  }
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

test(`fuzz (seed ${SEED}): ${WORKERS * BATCHES * BATCH_SIZE} adversarial frames from ${WORKERS} connections; every one answered as specified, others unharmed, memory bounded`, async () => {
  await using server = await startServer({ args: ["--max-messages-per-second", String(RATE)] });
  const encoder = new TextEncoder();

  // The control session: a command every 50 ms for as long as the fuzz runs; every one must succeed.
  const control = await openRecorder(server);
  let controlRuns = 0;
  const controlLatenciesMs: number[] = [];
  let fuzzing = true;
  const controlLoop = (async () => {
    while (fuzzing) {
      const id = `control-${controlRuns}`;
      const sentAt = performance.now();
      control.ws.send(json({ type: "exec", id, argv: ["echo", id] }));
      await control.until(() => control.received.some((message) => message["type"] === "exit" && message["id"] === id), `control exec ${id}`);
      const output = control.received.filter((message) => message["type"] === "output" && message["id"] === id).map((message) => message["data"]).join("");
      const exit = control.received.find((message) => message["type"] === "exit" && message["id"] === id)!;
      if (output !== `${id}\n` || exit["code"] !== 0) throw new Error(`seed ${SEED}: control exec ${id} gave ${JSON.stringify(output)} and ${JSON.stringify(exit)}`);
      controlLatenciesMs.push(performance.now() - sentAt);
      controlRuns++;
      await Bun.sleep(50);
    }
  })();
  await control.until(() => controlRuns > 0, "the first control exec");
  const baselineRss = rssBytes(server.pid);
  let peakRss = baselineRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(server.pid))), 100);
  // Stopped on every way out, failures included.
  using _sampling = { [Symbol.dispose]: () => clearInterval(sampler) };

  // Connections that must each end with one close code.
  const oversized = new Uint8Array(1024 * 1024 + 1).fill(0x20);
  const closers = Promise.all([
    rawCloseCode(server, rawFrame(0x1, Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]))),
    rawCloseCode(server, rawFrame(0x1, encoder.encode('{"type":"list"}'), { masked: false })),
    rawCloseCode(server, rawFrame(0x3, Uint8Array.of(1))),
    rawCloseCode(server, rawFrame(0x0, Uint8Array.of(1))),
    rawCloseCode(server, rawFrame(0x1, encoder.encode('{"type":"list"}'), { rsv: 0x40 })),
    rawCloseCode(server, rawFrame(0x9, new Uint8Array(200))),
    rawCloseCode(server, rawFrame(0x1, oversized)),
  ]);
  const flood = (async () => {
    const flooder = await openRecorder(server);
    const count = 3 * RATE;
    for (let index = 0; index < count; index++) flooder.ws.send(json({ type: "list", id: `f${index}` }));
    const closed = await flooder.closed;
    const answered = flooder.received.filter((message) => message["type"] === "execs").map((message) => message["id"]);
    return { closed, inOrder: answered.every((id, index) => id === `f${index}`), answered: answered.length, count };
  })();
  const refusals = (async () => {
    const badName = await openRecorder(server, `?name=${encodeURIComponent("no spaces/allowed")}`);
    const unknown = await openRecorder(server, "?session=nope");
    const closer = await openRecorder(server);
    closer.ws.send(json({ type: "list", id: "before" }));
    closer.ws.send(json({ type: "close" }));
    closer.ws.send(json({ type: "list", id: "after" }));
    return Promise.all(
      [badName, unknown, closer].map(async (client) => ({
        close: (await client.closed).code,
        replies: client.received.filter((message) => message["type"] !== "hello").map((message) => [message["type"], message["code"] ?? message["id"] ?? message["session"] !== undefined]),
      })),
    );
  })();

  const started = performance.now();
  const sent = await Promise.all(Array.from({ length: WORKERS }, (_, index) => runWorker(server, index)));
  const seconds = (performance.now() - started) / 1000;
  fuzzing = false;
  await controlLoop;
  clearInterval(sampler);

  expect(sent.reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(20_000);
  expect(await closers).toEqual([1007, 1002, 1002, 1002, 1002, 1002, 1009]);
  const flooded = await flood;
  expect({ code: flooded.closed.code, inOrder: flooded.inOrder, atLeastTheBurst: flooded.answered >= 2 * RATE, notAll: flooded.answered < flooded.count }).toEqual({
    code: 4029,
    inOrder: true,
    atLeastTheBurst: true,
    notAll: true,
  });
  expect(await refusals).toEqual([
    { close: 1008, replies: [["error", "bad_message"]] },
    { close: 4404, replies: [["error", "unknown_session"]] },
    { close: 4000, replies: [["execs", "before"], ["closed", true]] },
  ]);
  // Every control command ran, none waited long: on two busy cores (this process, the server and
  // the fuzz's own execs) a bwrap `echo` takes some 400 ms here, against 50 ms idle.
  expect(controlRuns).toBeGreaterThan(10);
  const slowestMs = Math.max(...controlLatenciesMs);
  expect(slowestMs).toBeLessThan(5000);

  // Still serving, and its memory went back to about where it was: the fuzz did not leave it growing.
  expect(server.process.exitCode).toBeNull();
  const health = await fetch(`http://127.0.0.1:${server.port}/healthz`);
  expect(health.status).toBe(200);
  const growthMiB = (peakRss - baselineRss) / 1024 / 1024;
  console.log(
    `fuzz seed ${SEED}: ${sent.reduce((a, b) => a + b, 0)} frames in ${seconds.toFixed(1)} s; ${controlRuns} control execs, slowest ${slowestMs.toFixed(0)} ms; server RSS ${(baselineRss / 1048576).toFixed(0)} MiB, peak ${(peakRss / 1048576).toFixed(0)} MiB`,
  );
  // Frames of up to 1 MiB from eight connections at once, their replies, and GC that has not run yet.
  expect(growthMiB).toBeLessThan(256);
  expect(await server.stop()).toBe(0);
}, 60_000);
