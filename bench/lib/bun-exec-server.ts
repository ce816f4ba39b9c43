/** The bare Bun.serve exec server (peers/bun-exec-server.ts) as a benchmark contender. */
import { join } from "node:path";
import type { SandboxCommand } from "../../src/sandbox/types.ts";
import { BUN } from "../../test/helpers/server-process.ts";

export interface BunExecServer extends AsyncDisposable {
  /** One round trip: a message sent, the command run once, "done" received; milliseconds. */
  sample(): Promise<number>;
}

const PEER = join(import.meta.dir, "..", "peers", "bun-exec-server.ts");

/** Starts the server in its own process and opens one persistent connection to it. */
export async function startBunExecServer(command: SandboxCommand, runAs: { uid: number; gid: number } | undefined): Promise<BunExecServer> {
  const proc = Bun.spawn([BUN, PEER, JSON.stringify({ command, runAs })], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of proc.stdout) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("\n")) break;
  }
  const port = Number.parseInt(text, 10);
  if (!Number.isInteger(port)) {
    proc.kill("SIGKILL");
    throw new Error(`the Bun.serve exec server did not start: ${JSON.stringify(text)}`);
  }
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error("Bun.serve exec server: connection failed")), { once: true });
  });
  let waiting: (() => void) | undefined;
  ws.addEventListener("message", () => waiting?.());
  return {
    async sample() {
      const { promise, resolve } = Promise.withResolvers<void>();
      waiting = resolve;
      const started = performance.now();
      ws.send("run");
      await promise;
      return performance.now() - started;
    },
    async [Symbol.asyncDispose]() {
      ws.close();
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
