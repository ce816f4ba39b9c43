/**
 * Audit of issue 4, point 3: "on socket close the session's processes keep running for
 * --detach-ttl". A persistent shell is a sandbox of its own whose background jobs persist (a server
 * started with `&` in one command answers in the next), and it takes an exec slot while it lives;
 * with no socket joined it must be held to the detach TTL, not to the idle TTL of a session with
 * nothing running. Found: an idle shell with a background job was killed after --session-idle-ttl.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { countSleepers } from "../helpers/proc.ts";

/** Sessions the server holds with no socket joined, as /metrics counts them. */
async function detachedSessions(server: TestServer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers: { authorization: `Bearer ${server.token}` } })).text();
  return Number(/^bunker_sessions\{state="detached"\} (\d+)$/m.exec(text)?.[1]);
}

async function leave(client: TestClient): Promise<void> {
  client.ws.close();
  await client.closed;
}

describe.skipIf(noBwrap)("a persistent shell left without a socket", () => {
  test("keeps its background jobs for the detach TTL, while a session with nothing running goes after the idle TTL", async () => {
    await using server = await startServer({ args: ["--session-idle-ttl", "300ms", "--detach-ttl", "60s", "--hold-output", "0s"] });
    const withShell = await connect(server);
    const shellCommand = await withShell.exec({ id: "bg", shell: "main", cmd: "sleep 9871 >/dev/null 2>&1 &" });
    expect(shellCommand.exit).toMatchObject({ code: 0 });
    const idle = await connect(server);
    await idle.exec({ id: "done", argv: ["true"] });
    // The shell's session is left first: by the time the idle one has gone, it has had its idle TTL too.
    await leave(withShell);
    await leave(idle);
    expect(await detachedSessions(server)).toBe(2);
    // No event to await for an eviction, and a resume would restart the clock: watch /metrics.
    while ((await detachedSessions(server)) > 1) await Bun.sleep(50);
    expect(await detachedSessions(server)).toBe(1);
    expect(countSleepers("9871")).toBe(1);
    const back = await connect(server, { query: { session: withShell.hello.session }, protocols: ["bunker.v1", `bunker.resume.${withShell.hello.resumeSecret}`] });
    expect(back.hello.resumed).toBe(true);
    back.send({ type: "close" });
    await back.closed;
  });

  test("a session whose shell has exited goes after the idle TTL again", async () => {
    await using server = await startServer({ args: ["--session-idle-ttl", "300ms", "--detach-ttl", "60s", "--hold-output", "0s"] });
    const client = await connect(server);
    await client.exec({ id: "start", shell: "main", cmd: "true" });
    const exited = await client.exec({ id: "end", shell: "main", cmd: "exit 4" });
    expect(exited.exit).toMatchObject({ code: 4 });
    await leave(client);
    const deadline = Date.now() + 10_000;
    while ((await detachedSessions(server)) > 0 && Date.now() < deadline) await Bun.sleep(50);
    expect(await detachedSessions(server)).toBe(0);
  });

  test("a session whose shell dies while no socket is joined goes after the idle TTL, not the detach TTL", async () => {
    await using server = await startServer({ args: ["--session-idle-ttl", "300ms", "--detach-ttl", "60s", "--hold-output", "0s"] });
    const client = await connect(server);
    // A background job that kills its shell once told to, after the socket has left.
    await client.exec({ id: "arm", shell: "main", cmd: "(while [ ! -e go ]; do sleep 0.02; done; kill -KILL $$) >/dev/null 2>&1 &" });
    await leave(client);
    writeFileSync(join(client.hello.workspace, "go"), "");
    const deadline = Date.now() + 10_000;
    while ((await detachedSessions(server)) > 0 && Date.now() < deadline) await Bun.sleep(50);
    expect(await detachedSessions(server)).toBe(0);
  });
});
