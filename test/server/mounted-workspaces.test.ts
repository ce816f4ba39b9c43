/**
 * Workspaces on filesystems that refuse: found by a crash hunt. A workspace that cannot be removed
 * when its session ends took the server down (the removal threw out of a close that nothing
 * awaited, and the unhandled rejection ended the server, every other session with it); here a
 * mount inside the workspace makes the removal fail (EBUSY), as a busy or read-only mount would in
 * production, or, for a server that does not run as root, a directory that a command made
 * read-only. And a full disk was answered as the client's fault.
 */
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, execaSync } from "execa";
import { connect } from "../helpers/client.ts";
import { bearer, fileUrl } from "../files/helpers/real-session.ts";
import { startServer } from "../helpers/server-process.ts";

/** Whether this process may mount (root with CAP_SYS_ADMIN): the test needs it, and says so where it is missing. */
function canMount(): boolean {
  const probe = mkdtempSync(join(tmpdir(), "bunker-mount-probe-"));
  try {
    if (execaSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { reject: false }).exitCode !== 0) return false;
    execaSync("umount", [probe]);
    return true;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const mountable = canMount();
if (!mountable) console.warn("skipping the workspace removal failure test: this process cannot mount a tmpfs");

/** Unmounts every tmpfs under `root`. */
async function unmountUnder(root: string): Promise<void> {
  const { stdout } = await execa("findmnt", ["-rn", "-o", "TARGET", "-t", "tmpfs"]);
  for (const target of stdout.split("\n").filter((line) => line.startsWith(`${root}/`))) await execa("umount", [target]);
}

/** Workspace roots of this file's servers: a test that timed out leaves its mount for this hook. */
const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await unmountUnder(root);
});

test.skipIf(!mountable)("a session whose workspace cannot be removed ends, says so in the log, and the server goes on", async () => {
  await using server = await startServer({ args: ["--sandbox", "none"] });
  roots.push(server.workspaceRoot);
  // Disposed before the server, whose disposal removes its workspace root.
  await using _unmount = { [Symbol.asyncDispose]: () => unmountUnder(server.workspaceRoot) };
  await using bystander = await connect(server);
  bystander.send({ type: "exec", id: "long", argv: ["sleep", "30"] });
  await bystander.next((message) => message.type === "started");

  await using doomed = await connect(server);
  const mountPoint = join(doomed.hello.workspace, "busy");
  mkdirSync(mountPoint);
  await execa("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint]);
  const logged = server.nextStderr(/the workspace of session (\S+) could not be removed \((.*)\)/);
  doomed.send({ type: "close" });
  await doomed.next((message) => message.type === "closed");
  const [, session, reason] = await logged;
  expect(session).toBe(doomed.hello.session);
  expect(reason).toContain("EBUSY");
  expect(server.process.exitCode).toBeNull();
  const after = await bystander.exec({ id: "after", argv: ["echo", "alive"] });
  expect(after.stdout).toBe("alive\n");
  bystander.send({ type: "signal", id: "long", signal: "SIGKILL" });
});

test.skipIf(!mountable)("a PUT that fills the disk is 507 quota_exceeded, not the client's bad_message, and leaves no partial file", async () => {
  const workspaceRoot = mkdtempSync(join(tmpdir(), "bunker-full-disk-"));
  roots.push(workspaceRoot);
  await execa("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", workspaceRoot]);
  try {
    await using server = await startServer({ args: ["--sandbox", "none"], workspaceRoot });
    await using client = await connect(server);
    const url = fileUrl(server, client, "big.bin");
    const headers = bearer(server);
    const full = await fetch(url, { method: "PUT", body: new Uint8Array(2 * 1024 * 1024), headers });
    expect(full.status).toBe(507);
    expect(full.headers.get("x-bunker-error")).toBe("quota_exceeded");
    expect(await full.text()).toContain("ENOSPC");
    // The partial file went with the failure: the room is there again.
    const small = await fetch(url, { method: "PUT", body: new Uint8Array(100 * 1024), headers });
    expect(small.status).toBe(201);
  } finally {
    await execa("umount", ["--lazy", workspaceRoot]);
    rmSync(workspaceRoot, { recursive: true, force: true });
  }
});
