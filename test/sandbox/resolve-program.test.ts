import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createVisibility, resolveProgram } from "../../src/sandbox/resolve-program.ts";

const root = mkdtempSync(join(tmpdir(), "bunker-resolve-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function addProgram(dir: string, name: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), "#!/bin/sh\n");
  chmodSync(join(dir, name), 0o755);
}

test("finds a bare name on PATH in order, skips what the sandbox cannot see, and keeps names with a slash", () => {
  const system = join(root, "order", "usr-bin");
  const hidden = join(root, "order", "hidden");
  addProgram(hidden, "tool");
  addProgram(system, "tool");
  const visible = createVisibility([system]);
  expect(resolveProgram("tool", `${hidden}:${system}`, root, visible)).toBe(join(system, "tool"));
  expect(resolveProgram("./tool", system, root, visible)).toBe("./tool");
  expect(resolveProgram("missing", system, root, visible)).toBeUndefined();
});

test("a program a command just made in the workspace is found at once: workspace lookups are never remembered", () => {
  const workspace = join(root, "workspace");
  const bin = join(workspace, "bin");
  mkdirSync(bin, { recursive: true });
  const visible = createVisibility([workspace]);
  const isSystem = createVisibility([join(root, "no-such-system-dir")]);
  expect(resolveProgram("made-here", bin, workspace, visible, isSystem)).toBeUndefined();
  addProgram(bin, "made-here");
  expect(resolveProgram("made-here", bin, workspace, visible, isSystem)).toBe(join(bin, "made-here"));
});

test("lookups in system directories are remembered for a moment (the host changes them, commands cannot)", () => {
  const system = join(root, "system", "bin");
  mkdirSync(system, { recursive: true });
  const visible = createVisibility([system]);
  expect(resolveProgram("installed-later", system, root, visible, visible)).toBeUndefined();
  addProgram(system, "installed-later");
  // Within the second the miss is remembered; without isSystem the same lookup sees the new file.
  expect(resolveProgram("installed-later", system, root, visible, visible)).toBeUndefined();
  expect(resolveProgram("installed-later", system, root, visible)).toBe(join(system, "installed-later"));
});
