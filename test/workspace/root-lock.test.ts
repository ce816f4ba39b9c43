/**
 * The servers that use a workspace root register in it. Two servers on one root share the directory
 * of every name, and one's end of a session deleted the other's live workspace (found by a crash
 * hunt): each is warned of the other. A file says where its server runs (pid, start time, PID
 * namespace, boot id): only there does a pid tell whether it runs.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerInWorkspaceRoot } from "../../src/workspace/root-lock.ts";
import { startTimeOf } from "../../src/common/proc.ts";
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
const HERE = `${readlinkSync("/proc/self/ns/pid")}@${readFileSync("/proc/sys/kernel/random/boot_id", "latin1").trim()}`;
const longAgo = new Date(Date.now() - 3600_000);
const serverFiles = (root: string) => readdirSync(root).filter((name) => name.startsWith(".bunker-server."));

/** Writes a server's file into `root`, last touched at `touched`. */
function plantServerFile(root: string, pid: number, content: string, touched = longAgo): string {
  const path = join(root, `.bunker-server.${pid}.abc123.lock`);
  writeFileSync(path, content);
  utimesSync(path, touched, touched);
  return path;
}

test("a running server's file counts as another server; this one's own file says where it runs and goes at release", async () => {
  const root = freshRoot();
  await using holder = { proc: Bun.spawn(["sleep", "30"]), async [Symbol.asyncDispose]() { this.proc.kill(); await this.proc.exited; } };
  plantServerFile(root, holder.proc.pid, `${holder.proc.pid} ${startTimeOf(holder.proc.pid)} ${HERE}\n`);
  const registration = registerInWorkspaceRoot(root);
  expect(registration.others).toEqual([holder.proc.pid]);
  const own = serverFiles(root).find((name) => name.startsWith(`.bunker-server.${process.pid}.`))!;
  expect(readFileSync(join(root, own), "latin1")).toBe(`${process.pid} ${startTimeOf(process.pid)} ${HERE}\n`);
  registration.release();
  expect(existsSync(join(root, own))).toBe(false);
});

test("servers with one pid (pid 1 in their containers) each have a file of their own", () => {
  const root = freshRoot();
  const first = registerInWorkspaceRoot(root);
  const second = registerInWorkspaceRoot(root);
  expect(serverFiles(root)).toHaveLength(2);
  second.release();
  expect(serverFiles(root)).toHaveLength(1);
  first.release();
});

test.each([
  ["whose process is gone", () => `${2 ** 22 + 7} 100 ${HERE}\n`],
  ["whose pid now belongs to another process (a restart reused it)", () => `1 ${Number(startTimeOf(1)!) + 1} ${HERE}\n`],
  ["of another machine or PID namespace, not touched for an hour", () => `4242 100 pid:[1]@another-boot\n`],
])("a server file %s is removed and not counted", (_, content) => {
  const root = freshRoot();
  const path = plantServerFile(root, 4242, content());
  const registration = registerInWorkspaceRoot(root);
  expect(registration.others).toEqual([]);
  expect(existsSync(path)).toBe(false);
  registration.release();
});

test.each([
  ["of another machine (an NFS root shared by two hosts) touched lately", `31337 100 pid:[4026531836]@another-boot\n`],
  ["that cannot be read yet (written a moment ago) touched lately", ""],
])("a server file %s counts: its pid tells nothing here", (_, content) => {
  const root = freshRoot();
  const path = plantServerFile(root, 31337, content, new Date());
  const registration = registerInWorkspaceRoot(root);
  expect(registration.others).toEqual([31337]);
  expect(existsSync(path)).toBe(true);
  registration.release();
});

test("a second server on the same root warns of the first, and both go on", async () => {
  const root = freshRoot();
  await using first = await startServer({ workspaceRoot: root, args: ["--sandbox", "none"] });
  await using client = await connect(first, { query: { name: "live" } });
  expect((await client.exec({ id: "w", cmd: "echo mine > kept.txt" })).exit.code).toBe(0);
  await using second = await startServer({ workspaceRoot: root, args: ["--sandbox", "none"] });
  expect(second.stderr()).toContain(`WARNING: ${root} is also the workspace root of another bunker server (pid ${first.pid})`);
  expect((await client.exec({ id: "r", argv: ["cat", "kept.txt"] })).stdout).toBe("mine\n");
  await using other = await connect(second);
  expect((await other.exec({ id: "ok", argv: ["true"] })).exit.code).toBe(0);
});
