// `connect(url, { reconnect })` and `detach()`: an exec detached around an outage runs once,
// unfollowed, and the socket that dropped stops pacing it. A real server, reached through a TCP
// relay that the tests cut and keep shut.
import { afterAll, describe, expect, test } from "bun:test";
import { connect } from "../../src/client/index.ts";
import { startServer } from "../helpers/server-process.ts";
import { settled } from "../helpers/settled.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { watchReconnects } from "./reconnect-events.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

const through = (port: number) => `ws://127.0.0.1:${port}/ws`;

describe("reconnect: execs detached before they started", () => {
  test("an exec detached before its started came (sent before the cut, or made during the outage) still runs, once", async () => {
    await using proxy = await startTcpProxy(server.port);
    const watch = watchReconnects();
    await using session = await connect(through(proxy.port), { token: server.token!, reconnect: watch.option });
    // Fire and forget: `detach()` says the exec goes on without this handle.
    const before = session.exec(["sh", "-c", "echo run >> detached-before.txt"], { id: "detached-before" });
    proxy.setOpen(false);
    proxy.dropAll();
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
});
