import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const REPO_ROOT = join(import.meta.dir, "..", "..");
export const BUN = process.execPath;
export const TEST_TOKEN = "test-token-0123456789abcdef";

/** A fresh, empty workspace root of a test's own. */
export const makeWorkspaceRoot = (): string => mkdtempSync(join(tmpdir(), "bunker-test-ws-"));

/** A bunker server running as its own process on port 0, for one test file. */
export interface TestServer extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  readonly token: string | undefined;
  readonly pid: number;
  readonly workspaceRoot: string;
  /** Everything the server wrote on stderr so far. */
  stderr(): string;
  /** The first match of `pattern` in what the server writes on stderr from now on, waiting for it. */
  nextStderr(pattern: RegExp): Promise<RegExpExecArray>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
  readonly process: Subprocess;
}

export interface StartServerOptions {
  /** Extra flags after `serve`. */
  args?: string[];
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  /** undefined: --no-auth; "generate": neither flag, the server makes one. Default TEST_TOKEN. */
  token?: string | undefined;
  /** The command to run instead of `bun src/main.ts` (the compiled binary, say). */
  command?: string[];
  workspaceRoot?: string;
}

/** Starts `bunker serve --port 0` and resolves once it prints its listening line. */
export async function startServer(options: StartServerOptions = {}): Promise<TestServer> {
  const workspaceRoot = options.workspaceRoot ?? makeWorkspaceRoot();
  const token = "token" in options ? options.token : TEST_TOKEN;
  const command = options.command ?? [BUN, join(REPO_ROOT, "src", "main.ts")];
  const proc = Bun.spawn(
    [...command, "serve", "--port", "0", "--workspace-root", workspaceRoot, ...(token === undefined ? ["--no-auth"] : token === "generate" ? [] : ["--token", token]), ...(options.args ?? [])],
    { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root", ...options.env }, stdout: "ignore", stderr: "pipe" },
  );
  let stderr = "";
  const stderrWaiters = new Set<{ pattern: RegExp; from: number; resolve: (match: RegExpExecArray) => void }>();
  const appendStderr = (text: string) => {
    stderr += text;
    for (const waiter of stderrWaiters) {
      const match = waiter.pattern.exec(stderr.slice(waiter.from));
      if (match) {
        stderrWaiters.delete(waiter);
        waiter.resolve(match);
      }
    }
  };
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  const port = await new Promise<number>((resolve, reject) => {
    const pump = async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          reject(new Error(`server exited before listening: ${stderr}`));
          return;
        }
        appendStderr(decoder.decode(value, { stream: true }));
        const match = /listening on ws:\/\/[^:]+:(\d+)\//.exec(stderr);
        if (match && (token !== "generate" || options.env?.["BUNKER_TOKEN"] !== undefined || /#token=[A-Za-z0-9_-]+\n/.test(stderr))) {
          resolve(Number(match[1]));
          // Keep draining so that the server never blocks on a full stderr pipe.
          for (;;) {
            const next = await reader.read();
            if (next.done) return;
            appendStderr(decoder.decode(next.value, { stream: true }));
          }
        }
      }
    };
    pump().catch(reject);
  });
  const stop = async () => {
    proc.kill("SIGTERM");
    return proc.exited;
  };
  const generated = /#token=([A-Za-z0-9_-]+)/.exec(stderr)?.[1];
  return {
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    token: token === "generate" ? (options.env?.["BUNKER_TOKEN"] ?? generated) : token,
    pid: proc.pid,
    workspaceRoot,
    stderr: () => stderr,
    nextStderr: (pattern) => new Promise((resolve) => stderrWaiters.add({ pattern, from: stderr.length, resolve })),
    stop,
    process: proc,
    async [Symbol.asyncDispose]() {
      if (proc.exitCode === null && proc.signalCode === null) await stop();
      if (!options.workspaceRoot) rmSync(workspaceRoot, { recursive: true, force: true });
    },
  };
}
