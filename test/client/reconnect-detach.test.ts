// `connect(url, { reconnect })` and `detach()`: an exec detached around an outage runs once,
// unfollowed, and the socket that dropped stops pacing it. A real server, reached through TCP
// relays that the tests cut, keep shut, or stall one way.
import { afterAll, describe, expect, test } from "bun:test";
import { connect } from "../../src/client/index.ts";
import { startHoldingProxy } from "../helpers/holding-proxy.ts";
import { startServer } from "../helpers/server-process.ts";
import { settled } from "../helpers/settled.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { watchReconnects } from "./reconnect-events.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

const through = (port: number) => `ws://127.0.0.1:${port}/ws`;

describe("reconnect: detached execs", () => {
  test("an exec detached before its started came (sent before the cut, or made during the outage) still runs, once", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    await using session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    // Fire and forget: `detach()` says the exec goes on without this handle.
    const before = session.exec(["sh", "-c", "echo run >> detached-before.txt"], { id: "detached-before" });
    proxy.cut();
    await watch.attempts(1);
    before.detach();
    const during = session.exec(["sh", "-c", "echo run >> detached-during.txt"], { id: "detached-during" });
    during.detach();
    proxy.setOpen(true);
    await watch.backs(1);

    for (const handle of [before, during]) {
      expect(await settled(handle.exited)).toEqual({ code: "detached" });
      // Followed again by a handle of its own: the server has it, and it ran to its end.
      expect(await session.attach(handle.id).exited).toMatchObject({ code: 0 });
    }
    expect(await session.files.read("detached-before.txt")).toBe("run\n");
    expect(await session.files.read("detached-during.txt")).toBe("run\n");
  }, 30_000);

  test("an exec detached during the outage is let go by the socket that dropped: its hold no longer paces the command", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    await using session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    // Unread, its window fills at once; past the server's 1 MiB log the command then waits for
    // this socket, and after the drop for its hold (--hold-output, 60 s by default).
    const writer = session.exec(["sh", "-c", "head -c 8000000 /dev/zero"], { id: "detached-in-outage", ackWindowBytes: 65536 });
    await writer.started;
    proxy.cut();
    await watch.attempts(1);
    writer.detach();
    proxy.setOpen(true);
    await watch.backs(1);

    // Not followed again.
    expect(await settled(writer.exited)).toEqual({ code: "detached" });
    expect(writer.stdout.offset).toBeLessThanOrEqual(65536);
    // A viewer neither paces nor ends a hold: the command gets to its end only if neither the
    // dropped socket nor the new one holds its output.
    await using viewer = await connect(server.url, { view: session.view! });
    expect(await viewer.attach(writer.id).exited).toMatchObject({ code: 0 });
    expect(writer.stdout.offset).toBeLessThanOrEqual(65536);
  }, 30_000);

  test("an exec whose detach was lost with the socket that dropped is let go all the same once back", async () => {
    await using proxy = await startHoldingProxy(server.port);
    const watch = watchReconnects();
    await using session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    const writer = session.exec(["sh", "-c", "head -c 8000000 /dev/zero"], { id: "detach-lost", ackWindowBytes: 65536 });
    await writer.started;
    // The detach is handed to the socket, and dies in the relay with it.
    proxy.hold();
    writer.detach();
    await proxy.held(20);
    proxy.dropAll();
    await watch.backs(1);

    expect(await settled(writer.exited)).toEqual({ code: "detached" });
    await using viewer = await connect(server.url, { view: session.view! });
    expect(await viewer.attach(writer.id).exited).toMatchObject({ code: 0 });
  }, 30_000);
});
