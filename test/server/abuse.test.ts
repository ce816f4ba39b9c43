import { describe, expect, test } from "bun:test";
import { addressKey, clientAddress, createConnectionLimits } from "../../src/server/connection-limits.ts";
import { createRateLimiter } from "../../src/server/rate-limit.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { connect } from "../helpers/client.ts";

/** Attempts an upgrade with raw fetch, so that a refusal's status, body and headers are visible. */
async function upgrade(server: TestServer, headers: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${server.port}/ws`, {
    headers: {
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      authorization: `Bearer ${server.token}`,
      ...headers,
    },
  });
  const body = response.status === 101 ? "" : await response.text();
  await response.body?.cancel().catch(() => {});
  return { status: response.status, body, retryAfter: response.headers.get("retry-after") };
}

describe("the pieces", () => {
  test("a rate limiter lets a burst through, then its rate", () => {
    const limiter = createRateLimiter(10, 20);
    const burst = Array.from({ length: 25 }, () => limiter.take(0)).filter(Boolean).length;
    expect(burst).toBe(20);
    expect([limiter.take(50), limiter.take(100), limiter.take(150), limiter.take(200)]).toEqual([false, true, false, true]);
  });

  test("the client address: the TCP peer unmapped, or with --trust-proxy the last X-Forwarded-For entry when it is an address", () => {
    expect(clientAddress("::ffff:10.0.0.7", "1.2.3.4", false)).toBe("10.0.0.7");
    expect(clientAddress("127.0.0.1", "6.6.6.6, 1.2.3.4", true)).toBe("1.2.3.4");
    expect(clientAddress("127.0.0.1", "1.2.3.4, not-an-address", true)).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", null, true)).toBe("127.0.0.1");
    expect(clientAddress(undefined, null, false)).toBe("unknown");
  });

  test("the per-address cap counts an IPv6 /64 as one address", () => {
    expect([addressKey("2001:db8:1:2:aaaa::1"), addressKey("2001:db8:1:2::ffff"), addressKey("2001:db8:1:3::1"), addressKey("::1"), addressKey("10.1.2.3")]).toEqual([
      "2001:db8:1:2::/64",
      "2001:db8:1:2::/64",
      "2001:db8:1:3::/64",
      "0:0:0:0::/64",
      "10.1.2.3",
    ]);
    const limits = createConnectionLimits(10, 1);
    limits.opened("2001:db8:1:2::1");
    expect([limits.check("2001:db8:1:2::99"), limits.check("2001:db8:1:3::1")]).toEqual(["too_many_connections_per_address", undefined]);
    limits.closed("2001:db8:1:2::1");
    expect([limits.check("2001:db8:1:2::99"), limits.open]).toEqual([undefined, 0]);
  });
});

describe("connection caps", () => {
  test("past --max-connections-per-address an address gets 429 until one of its connections closes", async () => {
    await using server = await startServer({ args: ["--max-connections-per-address", "2"] });
    const first = await connect(server);
    await using second = await connect(server);
    expect(await upgrade(server)).toEqual({ status: 429, body: "this address has 2 connections open, the server's --max-connections-per-address\n", retryAfter: "1" });
    await first[Symbol.asyncDispose]();
    await using third = await connect(server);
    expect([second.hello.type, third.hello.type]).toEqual(["hello", "hello"]);
  });

  test("past --max-connections everyone gets 503", async () => {
    await using server = await startServer({ args: ["--max-connections", "1"] });
    await using only = await connect(server);
    expect(await upgrade(server)).toEqual({ status: 503, body: "the server has 1 connection open, its --max-connections; try again later\n", retryAfter: "1" });
    expect(only.hello.type).toBe("hello");
  });

  test("with --trust-proxy the cap counts the address the proxy saw, not the proxy", async () => {
    await using server = await startServer({ args: ["--max-connections-per-address", "1", "--trust-proxy"] });
    await using alice = await connect(server, { headers: { "x-forwarded-for": "198.51.100.1" } });
    await using bob = await connect(server, { headers: { "x-forwarded-for": "198.51.100.2" } });
    expect([alice.hello.type, bob.hello.type]).toEqual(["hello", "hello"]);
    expect((await upgrade(server, { "x-forwarded-for": "198.51.100.1" })).status).toBe(429);
  });

  test("without --trust-proxy X-Forwarded-For is the client's claim and is ignored", async () => {
    await using server = await startServer({ args: ["--max-connections-per-address", "1"] });
    await using alice = await connect(server, { headers: { "x-forwarded-for": "198.51.100.1" } });
    expect((await upgrade(server, { "x-forwarded-for": "198.51.100.2" })).status).toBe(429);
    expect(alice.hello.type).toBe("hello");
  });
});

test("ping frames count against --max-messages-per-second too: Bun answers each one itself", async () => {
  await using server = await startServer({ args: ["--max-messages-per-second", "20"] });
  const flooder = await connect(server);
  for (let index = 0; index < 200; index++) (flooder.ws as WebSocket & { ping(): void }).ping();
  expect(await flooder.closed).toEqual({ code: 4029, reason: "more than 20 messages a second" });
  await using other = await connect(server);
  expect((await other.exec({ type: "exec", id: "ok", argv: ["echo", "ok"] })).stdout).toBe("ok\n");
});

test("a connection that sends faster than --max-messages-per-second is closed with 4029; its session goes on and resumes", async () => {
  await using server = await startServer({ args: ["--max-messages-per-second", "20"] });
  const flooder = await connect(server);
  flooder.send({ type: "exec", id: "keeps-running", cmd: "read line; echo got $line", stdin: true });
  await flooder.next((message) => message.type === "started");
  for (let index = 0; index < 200; index++) flooder.send({ type: "list", id: `l${index}` });
  expect(await flooder.closed).toEqual({ code: 4029, reason: "more than 20 messages a second" });
  // The burst is twice the rate: the exec and about 39 lists were answered, in order, then nothing.
  const answered = flooder.takeQueued((message) => message.type === "execs").map((message) => (message as { id?: string }).id);
  expect(answered.length).toBeGreaterThanOrEqual(39);
  expect(answered.length).toBeLessThan(50);
  expect(answered).toEqual(Array.from({ length: answered.length }, (_, index) => `l${index}`));

  await using resumed = await connect(server, { query: { session: flooder.hello.session }, protocols: ["bunker.v1", `bunker.resume.${flooder.hello.resumeSecret}`] });
  expect(resumed.hello.execs.map((exec) => [exec.id, exec.state])).toEqual([["keeps-running", "running"]]);
  resumed.send({ type: "attach", id: "keeps-running" });
  resumed.send({ type: "stdin", id: "keeps-running", data: "hi\n" });
  const run = await resumed.runToExit("keeps-running");
  expect([run.stdout, run.exit.reason]).toEqual(["got hi\n", "exited"]);
  const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers: { authorization: `Bearer ${server.token}` } })).text();
  expect(metrics).toContain('\nbunker_connections_closed_total{code="4029"} 1\n');
});
