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

test("view is not for resume, name or routable, and needs the session's view secret", () => {
  const view = { session: "s", secret: "abc" };
  expect(() => connect("ws://127.0.0.1:1/ws", { view, name: "n" })).toThrow(new TypeError("connect: view joins the session it names; not with resume, name or routable"));
  expect(() => connect("ws://127.0.0.1:1/ws", { view: { session: "s", secret: "a b" } })).toThrow(new TypeError("connect: view.secret must be the session's viewSecret"));
});
