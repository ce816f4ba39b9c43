import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProgramLookups, createVisibility, resolveProgram, type RememberedLookup } from "../../src/sandbox/resolve-program.ts";

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

test("whole lookups are remembered only when every candidate was a system path, and only for the same cwd", () => {
  const system = join(root, "whole", "usr-bin");
  const workspace = join(root, "whole", "workspace");
  const otherSystem = join(root, "whole", "usr-sbin");
  const bin = join(workspace, "bin");
  mkdirSync(system, { recursive: true });
  mkdirSync(bin, { recursive: true });
  addProgram(otherSystem, "here");
  const lookUp = createProgramLookups();
  const visible = createVisibility([system, workspace, otherSystem]);
  const isSystem = createVisibility([system, otherSystem]);
  expect(lookUp("late", system, workspace, visible, isSystem)).toBeUndefined();
  expect(lookUp("late", `${system}:${bin}`, workspace, visible, isSystem)).toBeUndefined();
  addProgram(system, "late");
  addProgram(bin, "mine");
  // The system-only lookup is remembered whole (not one candidate looked at); one that met the workspace is not.
  let looked = 0;
  const counted = (path: string) => (looked++, visible(path));
  expect(lookUp("late", system, workspace, counted, isSystem)).toBeUndefined();
  expect(looked).toBe(0);
  expect(lookUp("mine", `${system}:${bin}`, workspace, visible, isSystem)).toBe(join(bin, "mine"));
  // A relative PATH lands by cwd: the miss remembered in one directory is not another's answer.
  expect(lookUp("here", ".", system, visible, isSystem)).toBeUndefined();
  expect(lookUp("here", ".", otherSystem, visible, isSystem)).toBe(join(otherSystem, "here"));
});

test("a whole lookup looks at its candidates afresh: a program installed meanwhile is not hidden twice over", () => {
  const system = join(root, "afresh", "usr-bin");
  const cwd = join(root, "afresh", "workspace", "sub");
  mkdirSync(system, { recursive: true });
  mkdirSync(cwd, { recursive: true });
  const visible = createVisibility([system, cwd]);
  const isSystem = createVisibility([system]);
  // A single candidate's miss is remembered (another lookup of the same program)...
  expect(resolveProgram("fresh-tool", system, root, visible, isSystem)).toBeUndefined();
  addProgram(system, "fresh-tool");
  // ...but a whole lookup, itself remembered for a second, must not build on that one.
  expect(createProgramLookups()("fresh-tool", system, cwd, visible, isSystem)).toBe(join(system, "fresh-tool"));
});

test("a whole lookup is forgotten once its second is over: those of sessions long ended do not pile up", () => {
  const system = join(root, "forgotten", "usr-bin");
  addProgram(system, "tool");
  const visible = createVisibility([system]);
  let nowMs = 0;
  const lookups = new Map<string, RememberedLookup<string | undefined>>();
  const lookUp = createProgramLookups({ now: () => nowMs, lookups });
  // One lookup per session, each from its own workspace, a session every 10 ms (a server is slower).
  for (let session = 0; session < 3000; session++) {
    expect(lookUp("tool", system, join(root, "forgotten", `workspace-${session}`), visible, visible)).toBe(join(system, "tool"));
    nowMs += 10;
  }
  // Those of the last second, and no more (all 3000 were kept, up to 4096, before).
  expect(lookups.size).toBeLessThanOrEqual(101);
  // Still remembered within its second: another lookup of the same cwd looks at nothing.
  let looked = 0;
  const counted = (path: string) => (looked++, visible(path));
  expect(lookUp("tool", system, join(root, "forgotten", "workspace-2999"), counted, visible)).toBe(join(system, "tool"));
  expect(looked).toBe(0);
});

test("a PATH entry that climbs out with .. is judged where it lands, not where it starts", () => {
  const workspace = join(root, "climb", "workspace");
  const outside = join(root, "climb", "host-only");
  mkdirSync(workspace, { recursive: true });
  addProgram(outside, "secret-tool");
  const visible = createVisibility([workspace]);
  // Both spell a directory outside the workspace that starts with the workspace's own path.
  expect(resolveProgram("secret-tool", `${workspace}/../host-only`, workspace, visible)).toBeUndefined();
  expect(resolveProgram("secret-tool", "../host-only", workspace, visible)).toBeUndefined();
  // Without the workspace in the way the same file is found, so the refusals above are not a miss.
  expect(resolveProgram("secret-tool", outside, workspace, createVisibility([outside]))).toBe(join(outside, "secret-tool"));
});

test("a symlink in the workspace that leads out of it finds nothing: the host's files stay unknown", () => {
  const workspace = join(root, "link", "workspace");
  const outside = join(root, "link", "host-only");
  mkdirSync(workspace, { recursive: true });
  addProgram(outside, "secret-tool");
  symlinkSync(outside, join(workspace, "bin"));
  addProgram(join(workspace, "real-bin"), "own-tool");
  symlinkSync(join(workspace, "real-bin"), join(workspace, "inner"));
  const visible = createVisibility([workspace]);
  expect(resolveProgram("secret-tool", join(workspace, "bin"), workspace, visible)).toBeUndefined();
  // A link that stays inside is followed as the sandbox would follow it.
  expect(resolveProgram("own-tool", join(workspace, "inner"), workspace, visible)).toBe(join(workspace, "inner", "own-tool"));
});
