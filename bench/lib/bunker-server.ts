/** The bunker server under test, started the way the context says (from source, or a built binary). */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type StartServerOptions, type TestServer } from "../../test/helpers/server-process.ts";
import type { BenchContext } from "../types.ts";

/** How long a server may take to stop after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 10_000;

/**
 * Starts `bunker serve --port 0` with `args`, from source, from `--server` or as `options.command`, and waits until it
 * listens. Its workspace root is a fresh directory of mode 0711: a server running as root runs
 * commands as another uid (`--run-as`), which must pass through it. Disposing the server sends
 * SIGTERM, and SIGKILL if it has not exited 10 s later (a server stuck in its shutdown must not
 * hang the run; the log says so), then removes the workspace root.
 */
export async function startBunker(context: BenchContext, options: StartServerOptions = {}): Promise<TestServer> {
  const workspaceRoot = mkdtempSync(join(tmpdir(), "bunker-bench-ws-"));
  chmodSync(workspaceRoot, 0o711);
  let server: TestServer;
  try {
    // A command of the benchmark's own (a peer built from bunker's code) wins over --server.
    server = await startServer({ workspaceRoot, ...options, ...(context.serverCommand && !options.command && { command: context.serverCommand }) });
  } catch (error) {
    rmSync(workspaceRoot, { recursive: true, force: true });
    throw error;
  }
  return {
    ...server,
    async [Symbol.asyncDispose]() {
      const timer = setTimeout(() => {
        context.log(`the server (pid ${server.pid}) did not exit within ${STOP_GRACE_MS / 1000} s of SIGTERM; sending SIGKILL`);
        server.process.kill("SIGKILL");
      }, STOP_GRACE_MS);
      try {
        await server[Symbol.asyncDispose]();
      } finally {
        clearTimeout(timer);
        rmSync(workspaceRoot, { recursive: true, force: true });
      }
    },
  };
}
