/** connect(url, { view }): following a session read-only with its view secret, without the token. */
import { expect, test } from "bun:test";
import { BunkerError, connect } from "../../src/client/index.ts";
import { useSharedSession } from "../helpers/shared-session.ts";

const shared = useSharedSession();

test("a viewer joins with session.view and no token, follows an exec, and is refused what acts", async () => {
  const view = shared.session.view!;
  expect(view.session).toBe(shared.session.id);
  const job = shared.session.exec("echo one; read line; echo two $line", { id: "viewed", stdin: true });
  await job.started;
  const viewer = await connect(shared.server.url, { view });
  try {
    expect(viewer.viewer).toBe(true);
    expect(viewer.view).toBeUndefined();
    expect(shared.session.viewer).toBe(false);
    const followed = viewer.attach("viewed");
    await job.end("x\n");
    expect(await followed.stdout.readAllText()).toBe("one\ntwo x\n");
    expect(await followed.exited).toMatchObject({ code: 0 });

    const refused = await viewer.exec(["true"]).started.catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BunkerError);
    expect((refused as BunkerError).code).toBe("forbidden_by_policy");
    const write = await viewer.files.write("x.txt", "x").catch((error: unknown) => error);
    expect((write as BunkerError).code).toBe("forbidden_by_policy");
  } finally {
    await viewer.disconnect();
  }
});

test("a viewer's write to an exec fails with forbidden_by_policy instead of waiting forever", async () => {
  const job = shared.session.exec(["cat"], { id: "viewer-write", pty: { cols: 80, rows: 24 } });
  await job.started;
  const viewer = await connect(shared.server.url, { view: shared.session.view! });
  try {
    const watched = viewer.attach("viewer-write");
    await watched.started;
    // The server refuses the credit request (forbidden_by_policy): nothing can come of the write.
    const refused = await watched.write("typed\r").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BunkerError);
    expect((refused as BunkerError).code).toBe("forbidden_by_policy");
    const later = await watched.end().catch((error: unknown) => error);
    expect((later as BunkerError).code).toBe("forbidden_by_policy");
  } finally {
    job.signal("SIGKILL");
    await viewer.disconnect();
  }
});

test("a viewer's signal() and resize() return false at once and send nothing, as on a closed session", async () => {
  const job = shared.session.exec(["cat"], { id: "viewer-signal", pty: { cols: 80, rows: 24 } });
  await job.started;
  const viewer = await connect(shared.server.url, { view: shared.session.view! });
  try {
    const watched = viewer.attach("viewer-signal");
    await watched.started;
    expect(watched.signal("SIGTERM")).toBe(false);
    expect(watched.resize({ cols: 100, rows: 30 })).toBe(false);
    expect(() => watched.signal("SIGNOPE" as never)).toThrow(TypeError);
    // A round trip after them: a refusal of either would have come by now.
    await viewer.list();
    expect(watched.errors).toEqual([]);
    expect(watched.size).toEqual({ cols: 80, rows: 24 });
    expect(await shared.session.list()).toContainEqual(expect.objectContaining({ id: "viewer-signal", state: "running" }));
  } finally {
    job.signal("SIGKILL");
    await viewer.disconnect();
  }
});

test("a handle's size follows the terminal: at its start, after its own resize, and after another socket's", async () => {
  const job = shared.session.exec(["cat"], { id: "sized", pty: { cols: 80, rows: 24 } });
  await job.started;
  expect(job.size).toEqual({ cols: 80, rows: 24 });
  const viewer = await connect(shared.server.url, { view: shared.session.view! });
  try {
    const watched = viewer.attach("sized");
    await watched.started;
    expect(watched.size).toEqual({ cols: 80, rows: 24 });
    expect(job.resize({ cols: 120, rows: 40 })).toBe(true);
    expect(job.size).toEqual({ cols: 120, rows: 40 });
    // The viewer learns it from the server's resized.
    await viewer.list();
    while (watched.size?.cols !== 120) await viewer.list();
    expect(watched.size).toEqual({ cols: 120, rows: 40 });
  } finally {
    job.signal("SIGKILL");
    await viewer.disconnect();
  }
});

test("view is not for resume, name or routable, and needs the session's view secret", () => {
  const view = { session: "s", secret: "abc" };
  expect(() => connect("ws://127.0.0.1:1/ws", { view, name: "n" })).toThrow(new TypeError("connect: view joins the session it names; not with resume, name or routable"));
  expect(() => connect("ws://127.0.0.1:1/ws", { view: { session: "s", secret: "a b" } })).toThrow(new TypeError("connect: view.secret must be the session's viewSecret"));
});

test("revokeViewers cuts the viewers (a reconnecting one stops: unknown_session) and gives a new view, on every full session object", async () => {
  const owner = await connect(shared.server.url, { token: shared.server.token! });
  const other = await connect(shared.server.url, { token: shared.server.token!, resume: owner.resume });
  const before = owner.view!;
  const viewer = await connect(shared.server.url, { view: before, reconnect: { timeoutMs: 5000 } });
  try {
    const refused = await viewer.revokeViewers().catch((error: unknown) => error);
    expect((refused as BunkerError).code).toBe("forbidden_by_policy");

    const revoked = await owner.revokeViewers();
    expect(revoked.viewersCut).toBe(1);
    expect(revoked.view.session).toBe(owner.id);
    expect(revoked.view.secret).not.toBe(before.secret);
    expect(owner.view).toEqual(revoked.view);
    // The cut viewer does not try its dead secret again and again: the session object is over.
    const closed = await viewer.closed;
    expect(closed.code).toBe(4404);
    expect(viewer.reconnecting).toBe(false);
    // The other full object learned the new secret as it came.
    await other.list();
    expect(other.view).toEqual(revoked.view);

    const stale = await connect(shared.server.url, { view: before }).catch((error: unknown) => error);
    expect((stale as BunkerError).code).toBe("unknown_session");
    const fresh = await connect(shared.server.url, { view: revoked.view });
    expect(fresh.viewer).toBe(true);
    await fresh.disconnect();
  } finally {
    await viewer.disconnect().catch(() => {});
    await other.disconnect();
    await owner.close();
  }
});
