// Workspace names are keyed by a secret of the workspace root: an audit found a race in bwrap's
// mount points (SECURITY.md) through which a command can create files at a host path it knows, and
// a named session's workspace path used to follow from its name alone.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { createWorkspace } from "../../src/workspace/create.ts";
import { NAMING_KEY_FILE, workspaceNameFor } from "../../src/workspace/naming.ts";

const scratch = mkdtempSync(join(tmpdir(), "bunker-naming-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test("a named session's workspace cannot be found from its name, and keeps its place for the same root", () => {
  const root = join(scratch, "one");
  mkdirSync(root);
  const first = createWorkspace(root, "named:project");
  expect(basename(first.path)).not.toBe(workspaceNameFor("named:project"));
  expect(basename(first.path)).toMatch(/^named_project-[0-9a-f]{16}$/);
  expect(createWorkspace(root, "named:project").path).toBe(first.path);
  const key = join(root, NAMING_KEY_FILE);
  expect(statSync(key).mode & 0o777).toBe(0o600);
  expect(readFileSync(key).byteLength).toBe(32);

  const other = join(scratch, "two");
  mkdirSync(other);
  expect(basename(createWorkspace(other, "named:project").path)).not.toBe(basename(first.path));
});

// The unkeyed name is the predictable path the key retires: what sits there is never taken over.
test("a directory at a session's unkeyed name is not made its workspace", () => {
  const root = join(scratch, "planted");
  mkdirSync(join(root, workspaceNameFor("named:victim")), { recursive: true });
  writeFileSync(join(root, workspaceNameFor("named:victim"), "planted"), "x");
  const workspace = createWorkspace(root, "named:victim");
  expect(existsSync(join(workspace.path, "planted"))).toBe(false);
});
