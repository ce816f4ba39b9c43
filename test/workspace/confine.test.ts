import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveCwd } from "../../src/workspace/confine.ts";
import { workspaceNameFor } from "../../src/workspace/naming.ts";

const workspace = mkdtempSync(join(tmpdir(), "bunker-confine-"));
mkdirSync(join(workspace, "sub"));
writeFileSync(join(workspace, "script.sh"), "echo\n");
symlinkSync("script.sh", join(workspace, "file-link"));
symlinkSync("/", join(workspace, "root-link"));
symlinkSync("sub", join(workspace, "inner-link"));
symlinkSync("/no-such-host-dir-5e1", join(workspace, "missing-host-link"));
symlinkSync("../no-such-sibling-5e1", join(workspace, "missing-sibling-link"));
symlinkSync(join(workspace, "sub"), join(workspace, "absolute-inner-link"));
symlinkSync("inner-link", join(workspace, "chain-link"));
symlinkSync("loop-link", join(workspace, "loop-link"));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

test("relative and absolute paths inside the workspace resolve", () => {
  expect(resolveCwd(workspace, undefined)).toEqual({ ok: true, path: workspace });
  expect(resolveCwd(workspace, "sub")).toEqual({ ok: true, path: join(workspace, "sub") });
  expect(resolveCwd(workspace, join(workspace, "sub"))).toEqual({ ok: true, path: join(workspace, "sub") });
  expect(resolveCwd(workspace, "inner-link")).toEqual({ ok: true, path: join(workspace, "sub") });
});

test("dot-dot, absolute paths outside and symlinks out are refused", () => {
  expect(resolveCwd(workspace, "../..")).toMatchObject({ ok: false, code: "path_outside_workspace" });
  expect(resolveCwd(workspace, "sub/../../x")).toMatchObject({ ok: false, code: "path_outside_workspace" });
  expect(resolveCwd(workspace, "/etc")).toMatchObject({ ok: false, code: "path_outside_workspace" });
  expect(resolveCwd(workspace, `${workspace}-sibling`)).toMatchObject({ ok: false, code: "path_outside_workspace" });
  expect(resolveCwd(workspace, "root-link")).toMatchObject({ ok: false, code: "path_outside_workspace" });
  expect(resolveCwd(workspace, "missing")).toMatchObject({ ok: false, code: "not_found" });
});

test("a symlink out gets the same refusal whether its target exists on the host or not", () => {
  for (const cwd of ["root-link", "root-link/etc", "root-link/no-such-host-dir-5e1", "missing-host-link", "missing-host-link/x", "missing-sibling-link"]) {
    expect(resolveCwd(workspace, cwd)).toEqual({
      ok: false,
      code: "path_outside_workspace",
      problem: `cwd: ${JSON.stringify(cwd)} leads outside the workspace through a symlink`,
    });
  }
});

test("symlinks that stay inside the workspace resolve, relative, absolute or chained", () => {
  for (const cwd of ["absolute-inner-link", "chain-link", "chain-link/../inner-link"]) {
    expect(resolveCwd(workspace, cwd)).toEqual({ ok: true, path: join(workspace, "sub") });
  }
  // As the file API answers the same path (it said "does not exist", found by a review).
  expect(resolveCwd(workspace, "loop-link")).toEqual({ ok: false, code: "limit_exceeded", problem: 'cwd: "loop-link" goes through more than 40 symlinks' });
});

test("a component longer than NAME_MAX is bad_message, as for the file API, not not_found", () => {
  const long = "n".repeat(256);
  expect(resolveCwd(workspace, `sub/${long}`)).toEqual({ ok: false, code: "bad_message", problem: `cwd: the component "${"n".repeat(32)}"... is longer than 255 bytes` });
  expect(resolveCwd(workspace, "é".repeat(128))).toMatchObject({ ok: false, code: "bad_message" });
  expect(resolveCwd(workspace, "n".repeat(255))).toMatchObject({ ok: false, code: "not_found" });
});

test("a file, or a link to one, is not a cwd: refused before the sandbox would fail to enter it", () => {
  expect(resolveCwd(workspace, "script.sh")).toMatchObject({ ok: false, code: "not_directory" });
  expect(resolveCwd(workspace, "file-link")).toMatchObject({ ok: false, code: "not_directory" });
});

test("workspace names cannot escape the root and never collide", () => {
  for (const id of ["../../etc", "/abs", ".hidden", "a/b", ""]) {
    const name = workspaceNameFor(id);
    expect(name).toMatch(/^[A-Za-z0-9_-]+-[0-9a-f]{16}$/);
  }
  expect(workspaceNameFor("a/b")).not.toBe(workspaceNameFor("a_b"));
});
