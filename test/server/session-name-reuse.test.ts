/**
 * A session's name (or client-chosen id) is free as soon as the session starts to end, and a new
 * session may take it while the old one's processes are still being ended: the two have one
 * workspace path. Found by a race hunt: the old session's removal of its workspace then deleted the
 * new session's (6 of 10 named sessions closed and joined again within 4 ms), and every later exec
 * in it failed. The registry is driven directly here, so that the new session always comes in
 * between the start of the old one's close and its end.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, watch, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestRegistry, openedSession as opened } from "../helpers/registry.ts";
import { connect } from "../helpers/client.ts";
import { startServer } from "../helpers/server-process.ts";

const root = mkdtempSync(join(tmpdir(), "bunker-name-reuse-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const registry = (workspaceRetention: "keep" | "delete") => createTestRegistry(root, workspaceRetention);

test.each([
  ["a name", { kind: "named", name: "reused" }],
  ["an id chosen by the client", { kind: "create", id: "chosen-id" }],
] as const)("a new session of %s taken while the old one still ends keeps its workspace, and the old one's files go", async (_, request) => {
  const sessions = registry("delete");
  const old = opened(sessions.open(request));
  writeFileSync(join(old.workspace.path, "old.txt"), "old");
  const closing = old.close("closed");

  const again = opened(sessions.open(request));
  expect(again).not.toBe(old);
  expect(again.workspace.path).toBe(old.workspace.path);
  writeFileSync(join(again.workspace.path, "new.txt"), "new");
  await closing;

  expect(readdirSync(again.workspace.path).filter((name) => !name.startsWith("."))).toEqual(["new.txt"]);
  // Nothing of the old session is left beside it.
  expect(readdirSync(root).filter((name) => name.includes("ended"))).toEqual([]);
  await again.close("closed");
  expect(existsSync(again.workspace.path)).toBe(false);
});

test("with --workspace-retention keep, a name's new session has the workspace its old one left", async () => {
  const sessions = registry("keep");
  const old = opened(sessions.open({ kind: "named", name: "kept" }));
  writeFileSync(join(old.workspace.path, "old.txt"), "old");
  const closing = old.close("closed");
  const again = opened(sessions.open({ kind: "named", name: "kept" }));
  await closing;
  expect(readdirSync(again.workspace.path)).toContain("old.txt");
  await again.close("closed");
});

test("when the old workspace cannot be set aside (removed from outside already), the old session's end leaves the new one's alone", async () => {
  const sessions = registry("delete");
  const old = opened(sessions.open({ kind: "named", name: "vanished" }));
  rmSync(old.workspace.path, { recursive: true, force: true });
  const closing = old.close("closed");
  const again = opened(sessions.open({ kind: "named", name: "vanished" }));
  writeFileSync(join(again.workspace.path, "new.txt"), "new");
  await closing;
  expect(readdirSync(again.workspace.path).filter((name) => !name.startsWith("."))).toEqual(["new.txt"]);
  await again.close("closed");
  expect(existsSync(again.workspace.path)).toBe(false);
});

test("a PUT under way when its session ends puts nothing in the workspace of the next session of that name", async () => {
  await using server = await startServer({ args: ["--sandbox", "none"] });
  const old = await connect(server, { query: { name: "upload" } });
  const url = `http://127.0.0.1:${server.port}/files/late.txt?session=upload`;
  // A body that sends its first bytes now and the rest when the test says so.
  let finish!: () => void;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("first "));
      finish = () => {
        controller.enqueue(new TextEncoder().encode("last\n"));
        controller.close();
      };
    },
  });
  // The server has the request, and is reading its body, once its partial file is in the workspace.
  const receiving = new Promise<void>((resolve) => {
    const watcher = watch(old.hello.workspace, (_, name) => {
      if (name?.startsWith(".bunker-part")) {
        watcher.close();
        resolve();
      }
    });
  });
  const put = fetch(url, { method: "PUT", body, headers: { authorization: `Bearer ${server.token}` }, duplex: "half" } as RequestInit);
  await receiving;
  old.send({ type: "close" });
  await old.next((message) => message.type === "closed");
  await using again = await connect(server, { query: { name: "upload" } });
  expect(again.hello.resumed).toBe(false);
  finish();
  const answer = await put;
  expect(answer.status).toBe(404);
  expect(await answer.text()).toContain("the session ended while the body was being received");
  expect((await again.exec({ id: "ls", argv: ["ls"] })).stdout).toBe("");
});
