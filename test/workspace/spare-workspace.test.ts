/**
 * The spare workspace (src/workspace/spare-workspace.ts): made ahead, renamed into place by the
 * next new session, with the mode and owner of a workspace, never over a kept workspace's files,
 * and gone when the server stops.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorkspace } from "../../src/workspace/create.ts";
import { workspaceNameFor, namingKeyOf } from "../../src/workspace/naming.ts";
import { SpareWorkspace, SPARE_WORKSPACE_PREFIX, isStaleSpare } from "../../src/workspace/spare-workspace.ts";
import { connect } from "../helpers/client.ts";
import { startServer } from "../helpers/server-process.ts";

const scratch = mkdtempSync(join(tmpdir(), "bunker-spare-workspace-"));
chmodSync(scratch, 0o711);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const isRoot = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };

function newRoot(): string {
  const root = mkdtempSync(join(scratch, "root-"));
  chmodSync(root, 0o711);
  return root;
}

const sparesIn = (root: string) => readdirSync(root).filter((name) => name.startsWith(SPARE_WORKSPACE_PREFIX));

test("a new session's workspace is the spare, renamed into place, and the next spare is made", async () => {
  const root = newRoot();
  const spare = new SpareWorkspace(root, isRoot ? NOBODY : undefined);
  await spare.fill();
  const [made] = sparesIn(root);
  expect(made).toMatch(new RegExp(`^\\.spare-${process.pid}-[A-Za-z0-9_-]{22}$`));
  const { ino } = statSync(join(root, made!));

  const workspace = createWorkspace(root, "session-a", isRoot ? NOBODY : undefined, spare);
  const stat = statSync(workspace.path);
  expect(stat.ino).toBe(ino);
  expect(stat.mode & 0o7777).toBe(0o700);
  if (isRoot) expect([stat.uid, stat.gid]).toEqual([NOBODY.uid, NOBODY.gid]);
  expect(workspace.path).toBe(join(root, workspaceNameFor("session-a", namingKeyOf(root))));

  // take() started the next one.
  await spare.fill();
  expect(sparesIn(root)).toHaveLength(1);
  expect(sparesIn(root)[0]).not.toBe(made);
  spare.dispose();
  expect(sparesIn(root)).toEqual([]);
});

test("a kept workspace with files is taken as it is; the spare is removed, not left beside it", async () => {
  const root = newRoot();
  const kept = join(root, workspaceNameFor("named:project", namingKeyOf(root)));
  mkdirSync(kept, { mode: 0o755 });
  writeFileSync(join(kept, "work.txt"), "kept");
  const spare = new SpareWorkspace(root, undefined);
  await spare.fill();

  const workspace = createWorkspace(root, "named:project", undefined, spare);
  expect(workspace.path).toBe(kept);
  expect(readdirSync(kept)).toEqual(["work.txt"]);
  expect(statSync(kept).mode & 0o7777).toBe(0o700);
  await spare.fill();
  // Only the next spare: the one taken went.
  expect(sparesIn(root)).toHaveLength(1);
  spare.dispose();
});

test("an empty kept workspace is replaced by the spare, with the workspace's mode", async () => {
  const root = newRoot();
  const kept = join(root, workspaceNameFor("named:empty", namingKeyOf(root)));
  mkdirSync(kept, { mode: 0o755 });
  const spare = new SpareWorkspace(root, undefined);
  await spare.fill();
  const workspace = createWorkspace(root, "named:empty", undefined, spare);
  expect(readdirSync(workspace.path)).toEqual([]);
  expect(statSync(workspace.path).mode & 0o7777).toBe(0o700);
  spare.dispose();
});

test("without a spare ready the workspace is made as before", () => {
  const root = newRoot();
  const spare = new SpareWorkspace(root, undefined);
  const workspace = createWorkspace(root, "first", undefined, spare);
  expect(statSync(workspace.path).mode & 0o7777).toBe(0o700);
  spare.dispose();
});

test("after dispose no spare is left or made, also one still being made when it was called", async () => {
  const root = newRoot();
  const spare = new SpareWorkspace(root, undefined);
  const making = spare.fill();
  spare.dispose();
  await making;
  expect(sparesIn(root)).toEqual([]);
  await spare.fill();
  expect(sparesIn(root)).toEqual([]);
});

test("a spare is stale when its server's pid is not running, and never this process's", () => {
  const gone = Bun.spawnSync(["true"]).pid;
  expect(isStaleSpare(`.spare-${gone}-x`)).toBe(true);
  expect(isStaleSpare(`.spare-${process.pid}-x`)).toBe(false);
  // pid 1 runs as another user for a non-root test: still running.
  expect(isStaleSpare(".spare-1-x")).toBe(false);
  expect(isStaleSpare(".spare-x")).toBe(true);
});

test("a server makes its spare, a new session takes it, and a stopped server leaves none", async () => {
  const root = newRoot();
  const server = await startServer({ workspaceRoot: root, args: ["--sandbox", "none"] });
  try {
    const client = await connect(server);
    expect(existsSync(client.hello.workspace)).toBe(true);
    client.ws.close();
  } finally {
    await server.stop();
  }
  expect(sparesIn(root)).toEqual([]);
});
