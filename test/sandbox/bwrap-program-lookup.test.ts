import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBwrapBackend } from "../../src/sandbox/bwrap.ts";

const root = mkdtempSync(join(tmpdir(), "bunker-bwrap-lookup-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("a program a command writes into an --allow-write directory inside a system directory is found at once", () => {
  // /usr/local/tools allowed writable under a /usr mount: read-only for the host's sake elsewhere,
  // writable here, so its lookups must not be remembered as system ones are.
  const system = join(root, "usr");
  const tools = join(system, "local", "tools");
  const workspace = join(root, "workspace");
  mkdirSync(tools, { recursive: true });
  mkdirSync(workspace, { recursive: true });
  const backend = createBwrapBackend({ bwrapPath: "/usr/bin/bwrap", reaperPath: join(root, "reap"), systemMounts: [{ kind: "ro-bind", path: system }], lookUpPrograms: true });
  const policy = { workspace, allowNetwork: false, allowWrite: [tools] };
  const spec = { argv: ["made-by-a-command"], cwd: workspace, env: { PATH: tools } };
  expect(() => backend.buildCommand(spec, policy)).toThrow("was not found on the command's PATH");
  writeFileSync(join(tools, "made-by-a-command"), "#!/bin/sh\n");
  chmodSync(join(tools, "made-by-a-command"), 0o755);
  expect(backend.buildCommand(spec, policy).argv).toContain(join(tools, "made-by-a-command"));
});
