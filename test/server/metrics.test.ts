import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServerMetrics } from "../../src/server/metrics.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { connect } from "../helpers/client.ts";
import type { OutputMessage } from "../../src/protocol/index.ts";

/** Samples by `name{labels}`; throws on a line that is not in the text format. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split("\n")) {
    const type = /^# TYPE (\w+) (counter|gauge|histogram)$/.exec(line);
    if (type) typed.add(type[1]!);
    if (line.startsWith("#")) continue;
    const sample = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const family = sample[1]!.replace(/_(bucket|sum|count)$/, "");
    if (!typed.has(sample[1]!) && !typed.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    samples.set(`${sample[1]}${sample[2] ?? ""}`, Number(sample[3]));
  }
  return samples;
}

function pick(samples: Map<string, number>, keys: string[]): Record<string, number | undefined> {
  return Object.fromEntries(keys.map((key) => [key, samples.get(key)]));
}

test("the histogram counts each start in every bucket at or above it, with _sum and _count", () => {
  const metrics = createServerMetrics();
  metrics.execStarted(0.3);
  metrics.execStarted(30);
  const samples = parseExposition(metrics.render({ sessions: { live: 0, detached: 0 }, connectionsOpen: 0, execsRunning: 0, runningOutputBytes: { stdout: 0, stderr: 0 }, sandbox: { backend: "none", network: true } }));
  expect(
    pick(samples, [
      'bunker_exec_start_seconds_bucket{le="0.0005"}',
      'bunker_exec_start_seconds_bucket{le="0.025"}',
      'bunker_exec_start_seconds_bucket{le="0.05"}',
      'bunker_exec_start_seconds_bucket{le="+Inf"}',
      "bunker_exec_start_seconds_sum",
      "bunker_exec_start_seconds_count",
    ]),
  ).toEqual({
    'bunker_exec_start_seconds_bucket{le="0.0005"}': 1,
    'bunker_exec_start_seconds_bucket{le="0.025"}': 1,
    'bunker_exec_start_seconds_bucket{le="0.05"}': 2,
    'bunker_exec_start_seconds_bucket{le="+Inf"}': 2,
    bunker_exec_start_seconds_sum: 0.0303,
    bunker_exec_start_seconds_count: 2,
  });
});

test("close codes a client chose are one label, so that clients cannot grow the series; every known code is there from the start", () => {
  const metrics = createServerMetrics();
  const render = () => parseExposition(metrics.render({ sessions: { live: 0, detached: 0 }, connectionsOpen: 0, execsRunning: 0, runningOutputBytes: { stdout: 0, stderr: 0 }, sandbox: { backend: "none", network: true } }));
  const closedSamples = () => new Map([...render()].filter(([key]) => key.startsWith("bunker_connections_closed_total")));
  const fresh = closedSamples();
  // An alert on 4008 or 4029 has a series to watch before the first such close.
  for (const code of ["1000", "1009", "4008", "4029", "other"]) expect(fresh.get(`bunker_connections_closed_total{code="${code}"}`)).toBe(0);
  for (const code of [1000, 3001, 3002, 4999, 4029]) metrics.connectionClosed(code);
  const after = closedSamples();
  expect(after.size).toBe(fresh.size);
  expect(after.get('bunker_connections_closed_total{code="1000"}')).toBe(1);
  expect(after.get('bunker_connections_closed_total{code="other"}')).toBe(3);
  expect(after.get('bunker_connections_closed_total{code="4029"}')).toBe(1);
});

describe("GET /metrics on a live server", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ args: ["--host-id", "metrics-host"] });
  });
  afterAll(async () => {
    await server[Symbol.asyncDispose]();
  });
  const scrape = async (headers: Record<string, string> = { authorization: `Bearer ${server.token}` }) => {
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers });
    return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
  };

  test("asks for the token like the WebSocket does", async () => {
    expect(await scrape({})).toEqual({ status: 401, type: "text/plain;charset=utf-8", text: "missing or wrong token\n" });
    expect((await scrape({ authorization: "Bearer wrong-token-wrong-token" })).status).toBe(401);
    const good = await scrape();
    expect({ status: good.status, type: good.type }).toEqual({ status: 200, type: "text/plain; version=0.0.4; charset=utf-8" });
  });

  test("counts sessions, execs by exit reason, output bytes per stream, refusals, errors and closes", async () => {
    const before = parseExposition((await scrape()).text);
    {
      await using gone = await connect(server);
      await gone.exec({ id: "t", argv: ["true"] });
    }
    await using client = await connect(server);
    expect((await client.exec({ id: "out", cmd: "printf abc; printf de >&2" })).exit.reason).toBe("exited");
    expect((await client.exec({ id: "slow", argv: ["sleep", "30"], timeoutMs: 100 })).exit.reason).toBe("timeout");
    expect((await client.exec({ id: "flood", argv: ["seq", "1", "100000"], maxOutputBytes: 10 })).exit.reason).toBe("output_limit");
    expect((await client.exec({ id: "crash", cmd: "kill -SEGV $$" })).exit.reason).toBe("signaled");
    client.send({ type: "signal", id: "nope", signal: "SIGINT" });
    await client.next((message) => message.type === "error");
    await fetch(`http://127.0.0.1:${server.port}/ws`, { headers: { upgrade: "websocket" } });

    const after = parseExposition((await scrape()).text);
    const keys = [
      'bunker_sessions{state="live"}',
      'bunker_sessions{state="detached"}',
      "bunker_connections",
      "bunker_execs_running",
      'bunker_execs_finished_total{reason="exited"}',
      'bunker_execs_finished_total{reason="timeout"}',
      'bunker_execs_finished_total{reason="output_limit"}',
      'bunker_execs_finished_total{reason="signaled"}',
      'bunker_execs_finished_total{reason="killed"}',
      'bunker_exec_output_bytes_total{stream="stdout"}',
      'bunker_exec_output_bytes_total{stream="stderr"}',
      "bunker_exec_start_seconds_count",
      'bunker_connections_rejected_total{reason="unauthorized"}',
      'bunker_connections_closed_total{code="1005"}',
      'bunker_errors_sent_total{code="unknown_exec"}',
    ];
    const delta: Record<string, number | undefined> = Object.fromEntries(keys.map((key) => [key, (after.get(key) ?? Number.NaN) - (before.get(key) ?? 0)]));
    const backend = client.hello.sandbox.backend;
    const observed: Record<string, number | undefined> = { ...delta, sandbox: after.get(`bunker_sandbox_info{backend="${backend}",network="${backend === "none"}"}`) };
    expect(observed).toEqual({
      'bunker_sessions{state="live"}': 1,
      'bunker_sessions{state="detached"}': 1,
      bunker_connections: 1,
      bunker_execs_running: 0,
      'bunker_execs_finished_total{reason="exited"}': 2,
      'bunker_execs_finished_total{reason="timeout"}': 1,
      'bunker_execs_finished_total{reason="output_limit"}': 1,
      'bunker_execs_finished_total{reason="signaled"}': 1,
      'bunker_execs_finished_total{reason="killed"}': 0,
      'bunker_exec_output_bytes_total{stream="stdout"}': 3 + 10,
      'bunker_exec_output_bytes_total{stream="stderr"}': 2,
      bunker_exec_start_seconds_count: 5,
      'bunker_connections_rejected_total{reason="unauthorized"}': 1,
      'bunker_connections_closed_total{code="1005"}': 1,
      'bunker_errors_sent_total{code="unknown_exec"}': 1,
      sandbox: 1,
    });
    expect(after.get("process_resident_memory_bytes")).toBeGreaterThan(1024 * 1024);
  });

  test("counts a running exec's output as it streams, and not again when it ends", async () => {
    const key = 'bunker_exec_output_bytes_total{stream="stdout"}';
    const counted = async () => parseExposition((await scrape()).text).get(key) ?? Number.NaN;
    const before = await counted();
    await using client = await connect(server);
    client.send({ type: "exec", id: "stream", cmd: "head -c 100000 /dev/zero; exec sleep 30" });
    for (let received = 0; received < 100_000; ) {
      const output = await client.next<OutputMessage>((message) => message.type === "output" && message.id === "stream");
      received += output.data.length;
    }
    // A command streaming for hours shows its bytes before it ends.
    expect(await counted()).toBe(before + 100_000);
    client.send({ type: "signal", id: "stream", signal: "SIGKILL" });
    await client.next((message) => message.type === "exit" && message.id === "stream");
    expect(await counted()).toBe(before + 100_000);
  });

  test("opened counts sockets that became sessions; one refused right after the upgrade counts as rejected by reason, and by its close code", async () => {
    const keys = ["bunker_connections_opened_total", 'bunker_connections_rejected_total{reason="unknown_session"}', 'bunker_connections_closed_total{code="4404"}'];
    const counts = async () => pick(parseExposition((await scrape()).text), keys);
    const before = await counts();
    const refused = await connect(server, { query: { session: "AAAAAAAAAAAAAAAAAAAAAA" }, waitForHello: false });
    expect(await refused.next()).toMatchObject({ type: "error", code: "unknown_session" });
    expect((await refused.closed).code).toBe(4404);
    const afterRefusal = await counts();
    await using accepted = await connect(server);
    const afterSession = await counts();
    const delta = (after: Record<string, number | undefined>) => Object.fromEntries(keys.map((key) => [key, after[key]! - before[key]!]));
    expect({ afterRefusal: delta(afterRefusal), afterSession: delta(afterSession) }).toEqual({
      afterRefusal: { bunker_connections_opened_total: 0, 'bunker_connections_rejected_total{reason="unknown_session"}': 1, 'bunker_connections_closed_total{code="4404"}': 1 },
      afterSession: { bunker_connections_opened_total: 1, 'bunker_connections_rejected_total{reason="unknown_session"}': 1, 'bunker_connections_closed_total{code="4404"}': 1 },
    });
  });
});

test("--metrics-public serves /metrics without the token; the WebSocket still asks for it", async () => {
  await using server = await startServer({ args: ["--metrics-public"] });
  expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(200);
  expect((await fetch(`http://127.0.0.1:${server.port}/ws`, { headers: { upgrade: "websocket" } })).status).toBe(401);
});
