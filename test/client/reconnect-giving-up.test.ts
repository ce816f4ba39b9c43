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
    proxy.setOpen(false);
    proxy.dropAll();
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
    proxy.setOpen(false);
    proxy.dropAll();
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
