/**
 * One server per workspace root: a second server on the same root shared the directory of every
 * name, and one's end of a session deleted the other's live workspace (found by a crash hunt).
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lockWorkspaceRoot } from "../../src/workspace/root-lock.ts";
import { BUN, REPO_ROOT, startServer } from "../helpers/server-process.ts";

const scratch = mkdtempSync(join(tmpdir(), "bunker-root-lock-"));
// A server running as root runs commands as another uid, which must pass through to the roots.
chmodSync(scratch, 0o711);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let rootCount = 0;
const freshRoot = () => mkdtempSync(join(scratch, `root-${rootCount++}-`));
const LOCK = ".bunker-server.lock";

function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]!;
}

test("a root locked by a running process is refused, naming its pid", async () => {
  const root = freshRoot();
  await using holder = { proc: Bun.spawn(["sleep", "30"]), async [Symbol.asyncDispose]() { this.proc.kill(); await this.proc.exited; } };
  writeFileSync(join(root, LOCK), `${holder.proc.pid} ${startTimeOf(holder.proc.pid)}\n`);
  expect(() => lockWorkspaceRoot(root)).toThrow(`${root} is in use by another bunker server (pid ${holder.proc.pid}); give each server its own --workspace-root`);
});

test.each([
  ["whose process is gone", () => `${2 ** 22 + 7} 100\n`],
  ["whose pid now belongs to another process (a restart reused it)", () => `1 ${Number(startTimeOf(1)) + 1}\n`],
  ["that is unreadable garbage", () => "not a lock\n"],
])("a lock %s is taken over, and released only by its new holder", (_, content) => {
  const root = freshRoot();
  writeFileSync(join(root, LOCK), content());
  const lock = lockWorkspaceRoot(root);
  expect(readFileSync(join(root, LOCK), "latin1")).toBe(`${process.pid} ${startTimeOf(process.pid)}\n`);
  lock.release();
  expect(existsSync(join(root, LOCK))).toBe(false);
});

test("a second server on the same root exits 2 saying which server has it; once the first stops, the root is free", async () => {
  const root = freshRoot();
  const first = await startServer({ workspaceRoot: root, args: ["--sandbox", "none"] });
  const second = Bun.spawn([BUN, join(REPO_ROOT, "src", "main.ts"), "serve", "--port", "0", "--no-auth", "--sandbox", "none", "--workspace-root", root], { stderr: "pipe" });
  expect(await second.exited).toBe(2);
  expect(await new Response(second.stderr).text()).toBe(`bunker: --workspace-root: ${root} is in use by another bunker server (pid ${first.pid}); give each server its own --workspace-root\n`);
  expect(await first.stop()).toBe(0);
  expect(existsSync(join(root, LOCK))).toBe(false);
  await using third = await startServer({ workspaceRoot: root, args: ["--sandbox", "none"] });
  expect(third.pid).toBeGreaterThan(0);
});
