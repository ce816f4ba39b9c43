/**
 * A setup namespace (src/sandbox/setup-namespace.ts) of a test file's own: made in beforeAll in a
 * fresh directory (0755, with the reaper and `workspaces/`), closed and removed in afterAll. Not made
 * where bwrap cannot run here or the architecture has no reaper: those tests skip.
 */
import { afterAll, beforeAll } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installReaper, reaperArchFor } from "../../src/sandbox/reaper.ts";
import { closeSetupNamespace, openSetupNamespace, type SetupNamespace } from "../../src/sandbox/setup-namespace.ts";
import { readSystemMounts } from "../../src/sandbox/system-mounts.ts";
import { noBwrap } from "./sandbox-required.ts";

/** This machine's reaper architecture; undefined where bunker has none. */
export const hostArch = reaperArchFor(process.arch);

export interface SetupNamespaceFixture {
  /** The file's directory. */
  readonly dir: string;
  /** Made once beforeAll has run (and bwrap works here). */
  readonly namespace: SetupNamespace | undefined;
}

export function useSetupNamespace(prefix: string): SetupNamespaceFixture {
  let dir = "";
  let namespace: SetupNamespace | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, "workspaces"));
    if (noBwrap || !hostArch) return;
    namespace = await openSetupNamespace({ bwrapPath: Bun.which("bwrap")!, reaperPath: installReaper(dir, hostArch), systemMounts: readSystemMounts(), workspaceRoot: join(dir, "workspaces") });
  });
  afterAll(() => {
    if (namespace) closeSetupNamespace(namespace);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    get namespace() {
      return namespace;
    },
  };
}
