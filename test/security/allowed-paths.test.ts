// Found by an audit: --allow-write of a folder that holds the workspace root (a non-root server's
// default root is ~/.bunker/workspaces, so `--allow-write $HOME` is enough) bound every session's
// workspace, writable, into every command's sandbox, after the session's own.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runServe } from "../../src/cli/serve.ts";
import { UsageError } from "../../src/cli/usage-error.ts";
import { allowedPathProblem } from "../../src/config/allowed-paths.ts";

const home = mkdtempSync(join(tmpdir(), "bunker-allowed-"));
// Commands (as nobody, under a root server) pass through it to their workspaces.
chmodSync(home, 0o711);
const root = join(home, ".bunker", "workspaces");
mkdirSync(root, { recursive: true });
mkdirSync(join(home, "projects"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

test("serve refuses an allowed path that holds, is, or lies inside the workspace root, and leaves no lock behind", async () => {
  for (const [flag, path] of [["--allow-write", home], ["--allow-read", home], ["--allow-read", root], ["--allow-write", join(root, "..")]]) {
    const serving = runServe(["--workspace-root", root, "--sandbox", "none", flag!, path!], {});
    expect(serving).rejects.toThrow(UsageError);
    expect(serving).rejects.toThrow(/overlaps the workspace root/);
    await serving.catch(() => {});
  }
  expect(readdirSync(root).filter((name) => name.includes("lock"))).toEqual([]);
});

test("a folder beside the workspace root is allowed; a writable one that holds the temporary directory is not", () => {
  expect(allowedPathProblem(join(home, "projects"), true, root)).toBeUndefined();
  mkdirSync(join(home, "projects", "tmp-like"));
  expect(allowedPathProblem(join(home, "projects"), true, root, join(home, "projects", "tmp-like"))).toMatch(/holds/);
  expect(allowedPathProblem(join(home, "projects"), false, root, join(home, "projects", "tmp-like"))).toBeUndefined();
});
