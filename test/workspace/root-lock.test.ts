/**
 * The servers that use a workspace root register in it. Two servers on one root share the directory
 * of every name, and one's end of a session deleted the other's live workspace (found by a crash
 * hunt): each is warned of the other, and a server that is not alone on its root never deletes the
 * workspaces it finds there (they may be the other's live ones).
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerInWorkspaceRoot } from "../../src/workspace/root-lock.ts";
import { workspaceNameFor } from "../../src/workspace/naming.ts";
import { connect } from "../helpers/client.ts";
import { startServer } from "../helpers/server-process.ts";

const scratch = mkdtempSync(join(tmpdir(), "bunker-root-lock-"));
// A server running as root runs commands as another uid, which must pass through to the roots.
chmodSync(scratch, 0o711);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const freshRoot = () => {
  const root = mkdtempSync(join(scratch, "root-"));
  chmodSync(root, 0o711);
  return root;
};
const NAMESPACE = readlinkSync("/proc/self/ns/pid");
const longAgo = new Date(Date.now() - 3600_000);

function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

/** Writes a server's file into `root`, last touched at `touched`. */
function plantServerFile(root: string, pid: number, content: string, touched = longAgo): string {
  const path = join(root, `.bunker-server.${pid}.lock`);
  writeFileSync(path, content);
  utimesSync(path, touched, touched);
  return path;
}

test("a running server's file is counted as another server; this one's own goes at release", async () => {
  const root = freshRoot();
  await using holder = { proc: Bun.spawn(["sleep", "30"]), async [Symbol.asyncDispose]() { this.proc.kill(); await this.proc.exited; } };
  plantServerFile(root, holder.proc.pid, `${holder.proc.pid} ${startTimeOf(holder.proc.pid)} ${NAMESPACE}\n`);
  const registration = registerInWorkspaceRoot(root, "delete");
  expect(registration.others).toEqual([holder.proc.pid]);
  const own = join(root, `.bunker-server.${process.pid}.lock`);
  expect(readFileSync(own, "latin1")).toBe(`${process.pid} ${startTimeOf(process.pid)} ${NAMESPACE} delete\n`);
  expect(registration.leftByKilledDeleter).toBe(false);
  registration.release();
  expect(existsSync(own)).toBe(false);
});

test.each([
  ["whose process is gone", () => [2 ** 22 + 7, `${2 ** 22 + 7} 100 ${NAMESPACE}\n`] as const],
  ["whose pid now belongs to another process (a restart reused it)", () => [1, `1 ${Number(startTimeOf(1)) + 1} ${NAMESPACE}\n`] as const],
  ["of another PID namespace, not touched for an hour", () => [4242, `4242 100 pid:[1]\n`] as const],
  ["that is unreadable garbage", () => [4343, "not a lock\n"] as const],
])("a server file %s is removed and not counted", (_, planted) => {
  const root = freshRoot();
  const [pid, content] = planted();
  const path = plantServerFile(root, pid, content);
  const registration = registerInWorkspaceRoot(root, "delete");
  expect(registration.others).toEqual([]);
  expect(existsSync(path)).toBe(false);
  registration.release();
});

test.each([
  ["delete", true],
  ["keep", false],
] as const)("the file of a gone server that ran with --workspace-retention %s says whether it left workspaces it was to delete", (retention, left) => {
  const root = freshRoot();
  plantServerFile(root, 2 ** 22 + 9, `${2 ** 22 + 9} 100 ${NAMESPACE} ${retention}\n`);
  const registration = registerInWorkspaceRoot(root, "delete");
  expect(registration.leftByKilledDeleter).toBe(left);
  registration.release();
});

test("a server file of another PID namespace touched lately counts: that server may run where its pid cannot be seen", () => {
  const root = freshRoot();
  plantServerFile(root, 4444, "4444 100 pid:[1]\n", new Date());
  const registration = registerInWorkspaceRoot(root, "delete");
  expect(registration.others).toEqual([4444]);
  registration.release();
});

test("a second server on the same root warns of the first and deletes none of its workspaces; alone, it would", async () => {
  const root = freshRoot();
  await using first = await startServer({ workspaceRoot: root, args: ["--sandbox", "none"] });
  await using client = await connect(first, { query: { name: "live" } });
  expect((await client.exec({ id: "w", cmd: "echo mine > kept.txt" })).exit.code).toBe(0);
  // A workspace as a killed server would leave it: the second server must not take it for one.
  mkdirSync(join(root, workspaceNameFor("left")));

  await using second = await startServer({ workspaceRoot: root, args: ["--sandbox", "none"] });
  expect(second.stderr()).toContain(`WARNING: ${root} is also the workspace root of another bunker server (pid ${first.pid})`);
  expect((await client.exec({ id: "r", argv: ["cat", "kept.txt"] })).stdout).toBe("mine\n");
  expect(readdirSync(root)).toContain(workspaceNameFor("left"));
});
