// `connect(url, { reconnect })` giving up: what ends the attempts, and what everything still
// waiting then fails with. A real server, reached through a TCP relay that the tests cut and keep
// shut (a network drop: no close frame, 1006 at both ends).
import { afterAll, describe, expect, test } from "bun:test";
import { BunkerError, connect } from "../../src/client/index.ts";
import { startServer } from "../helpers/server-process.ts";
import { settled } from "../helpers/settled.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { watchReconnects } from "./reconnect-events.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

const through = (port: number) => `ws://127.0.0.1:${port}/ws`;

describe("reconnect: giving up", () => {
  test("a session ended while disconnected: everything pending rejects with reconnect_failed, caused by unknown_session", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    const name = "reconnect-library-gone";
    const session = await connect(through(proxy.port), { token: server.token!, name, reconnect: watch.option });
    const sleeper = session.exec(["sh", "-c", "exec sleep 100"]);
    await sleeper.started;
    proxy.cut();
    await watch.attempts(1);
    const listing = session.list();
    const other = await connect(server.url, { token: server.token!, name });
    await other.close();
    proxy.setOpen(true);

    const error = await sleeper.exited.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BunkerError);
    expect(error).toMatchObject({
      code: "reconnect_failed",
      execId: sleeper.id,
      closeCode: 1006,
      message: `the connection closed (1006) and session "${session.id}" could not be resumed: the server no longer has it (unknown_session: it ended, or the server restarted)`,
      cause: { code: "unknown_session" },
    });
    expect(await settled(listing)).toEqual({ code: "reconnect_failed" });
    const closed = await session.closed;
    expect(closed).toMatchObject({ code: 1006, reconnectError: { code: "reconnect_failed" } });
    expect(session.reconnecting).toBe(false);
    expect(watch.reconnected).toEqual([]);
  }, 30_000);

  test("a server out of reach past timeoutMs: reconnect_failed after attempts at 0, 250, 500... ms, caused by the last attempt's failure", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects({ timeoutMs: 1500 });
    const session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    const sleeper = session.exec(["sh", "-c", "exec sleep 100"]);
    await sleeper.started;
    proxy.cut();
    const error = await sleeper.exited.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "reconnect_failed", closeCode: 1006, cause: { code: "connect_failed" } });
    expect((error as Error).message).toStartWith(`the connection closed (1006) and session "${session.id}" could not be resumed within 1500 ms (reconnect.timeoutMs): could not connect to `);
    expect((error as Error).message).toEndWith("; its commands may still run on the server");
    expect(await session.closed).toMatchObject({ code: 1006, reconnectError: { code: "reconnect_failed" } });
    expect(watch.reconnecting.slice(0, 4).map((event) => [event.attempt, event.delayMs])).toEqual([
      [1, 0],
      [2, 250],
      [3, 500],
      [4, expect.any(Number)],
    ]);
    expect(watch.reconnecting[1]!.lastError).toMatchObject({ code: "connect_failed" });
    expect(proxy.refused).toBe(watch.reconnecting.length);
    // The session was not ended: it still runs the command.
    await using other = await connect(server.url, { token: server.token!, resume: session.resume });
    expect(other.hello.execs.find((info) => info.id === sleeper.id)?.state).toBe("running");
    await other.close();
  }, 30_000);
});

describe("reconnect: what ends the attempts at once", () => {
  test("a resume refused with 401 (the server behind the relay has another token) ends at once: reconnect_failed names the refusal", async () => {
    await using other = await startServer({ token: "another-token-0123456789abcdef" });
    await using proxy = await startTcpProxy(server.port);
    // Long enough that a loop trying again would still be at it when the test ends.
    const watch = watchReconnects({ timeoutMs: 20_000 });
    const session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    const sleeper = session.exec(["sh", "-c", "exec sleep 100"]);
    await sleeper.started;
    proxy.cut();
    await watch.attempts(1);
    proxy.retarget(other.port);
    const attemptsBefore = watch.reconnecting.length;
    proxy.setOpen(true);

    const error = await sleeper.exited.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BunkerError);
    expect(error).toMatchObject({
      code: "reconnect_failed",
      execId: sleeper.id,
      closeCode: 1006,
      message: `the connection closed (1006) and session "${session.id}" could not be resumed: the server refused the token (HTTP 401); its commands may still run on the server`,
      cause: { code: "connect_failed", message: expect.stringContaining("401") },
    });
    // The attempt made once the relay opened (and one begun just before it, at most), no more.
    expect(watch.reconnecting.length).toBeLessThanOrEqual(attemptsBefore + 1);
    expect(await session.closed).toMatchObject({ code: 1006, reconnectError: { code: "reconnect_failed" } });
    // Refused is not gone: the session still runs its command where it lives.
    await using again = await connect(server.url, { token: server.token!, resume: session.resume });
    expect(again.hello.execs.find((info) => info.id === sleeper.id)?.state).toBe("running");
    await again.close();
  }, 30_000);

  test("a session that expired during the outage ends the attempts at once with unknown_session", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects({ timeoutMs: 20_000 });
    const session = await connect(through(proxy.port), { token: server.token!, detachTtlMs: 1000, reconnect: watch.option });
    const sleeper = session.exec(["sh", "-c", "exec sleep 100"]);
    await sleeper.started;
    // A viewer does not hold the session, and hears of its end: close 4000 "session expired".
    const viewer = await connect(server.url, { view: session.view! });
    proxy.cut();
    expect(await viewer.closed).toMatchObject({ code: 4000, reason: "session expired" });
    const attemptsBefore = watch.reconnecting.length;
    proxy.setOpen(true);

    expect(await sleeper.exited.catch((e: unknown) => e)).toMatchObject({
      code: "reconnect_failed",
      message: `the connection closed (1006) and session "${session.id}" could not be resumed: the server no longer has it (unknown_session: it ended, or the server restarted)`,
      cause: { code: "unknown_session" },
    });
    expect(watch.reconnecting.length).toBeLessThanOrEqual(attemptsBefore + 1);
    expect(watch.reconnected).toEqual([]);
  }, 30_000);

  test("a session closed by another of its sockets (4000) is not reconnected to", async () => {
    const watch = watchReconnects();
    const session = await connect(server.url, { token: server.token!, reconnect: watch.option });
    const sleeper = session.exec(["sh", "-c", "exec sleep 100"]);
    await sleeper.started;
    const other = await connect(server.url, { token: server.token!, resume: session.resume });
    await other.close();
    expect(await session.closed).toEqual({ code: 4000, reason: "session closed" });
    expect(await settled(sleeper.exited)).toEqual({ code: "session_closed" });
    expect(session.reconnecting).toBe(false);
    expect(watch.reconnecting).toEqual([]);
  }, 30_000);
});

describe("reconnect: giving up with requests queued", () => {
  test("file requests still queued in the client fail with the same reconnect_failed as those held for the server", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    const name = "reconnect-library-queued";
    const session = await connect(through(proxy.port), { token: server.token!, name, reconnect: watch.option });
    proxy.cut();
    await watch.attempts(1);
    // Past the server's queue of file requests (256, less 32 for open handles): the last ones wait
    // in the client for a place, and are sent only once one of the first has its answer.
    const stats = Array.from({ length: 240 }, () => session.files.stat("."));
    const other = await connect(server.url, { token: server.token!, name });
    await other.close();
    proxy.setOpen(true);

    const errors = await Promise.all(stats.map((stat) => stat.catch((e: unknown) => e)));
    const failure = (await session.closed).reconnectError!;
    expect(failure).toMatchObject({ code: "reconnect_failed", cause: { code: "unknown_session" } });
    expect(errors.filter((error) => error !== failure)).toEqual([]);
  }, 30_000);
});
