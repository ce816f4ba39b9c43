/**
 * A server run as a uid of nobody in particular, as bunker runs on a developer's machine (not root,
 * no --run-as): its commands run as that uid too and own the workspace. Needs root and setpriv(1)
 * to start it so; `canRunAsUser` says whether this machine has them.
 */
import { afterAll, beforeAll } from "bun:test";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, REPO_ROOT, startServer, type TestServer } from "./server-process.ts";

export const SERVER_UID = 4242;
/** The command prefix that runs a program as SERVER_UID. */
export const AS_SERVER_UID = ["/usr/bin/setpriv", "--reuid", String(SERVER_UID), "--regid", String(SERVER_UID), "--clear-groups"];
export const canRunAsUser = process.getuid?.() === 0 && existsSync("/usr/bin/setpriv");

export interface ServerAsUser {
  /** The server; undefined where it could not start (see `canRunAsUser`, and `when`). */
  readonly server: TestServer | undefined;
  /** Its workspace root, owned by SERVER_UID (also its HOME). */
  readonly workspaceRoot: string;
}

/** Starts the server in beforeAll (when `when` holds too) and stops it in afterAll. */
export function useServerAsUser(args: string[], when = true): ServerAsUser {
  let server: TestServer | undefined;
  let workspaceRoot = "";
  beforeAll(async () => {
    if (!canRunAsUser || !when) return;
    workspaceRoot = mkdtempSync(join(tmpdir(), "bunker-as-user-"));
    chownSync(workspaceRoot, SERVER_UID, SERVER_UID);
    server = await startServer({ command: [...AS_SERVER_UID, BUN, join(REPO_ROOT, "src", "main.ts")], env: { HOME: workspaceRoot }, workspaceRoot, args });
  });
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]();
    if (workspaceRoot) rmSync(workspaceRoot, { recursive: true, force: true });
  });
  return {
    get server() {
      return server;
    },
    get workspaceRoot() {
      return workspaceRoot;
    },
  };
}
