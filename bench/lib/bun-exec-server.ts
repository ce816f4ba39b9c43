/** The bare Bun.serve exec server (peers/bun-exec-server.ts) as a benchmark contender. */
import type { SandboxCommand } from "../../src/sandbox/types.ts";
import { startPeerProcess } from "./peer-process.ts";

export interface BunExecServer extends AsyncDisposable {
  /** One round trip: a message sent, the command run once, "done" received; milliseconds. Several may be in flight. */
  sample(): Promise<number>;
}

/** Starts the server in its own process and opens one persistent connection to it. */
export async function startBunExecServer(command: SandboxCommand, runAs: { uid: number; gid: number } | undefined): Promise<BunExecServer> {
  const { port, proc } = await startPeerProcess("bun-exec-server.ts", { command, runAs });
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error("Bun.serve exec server: connection failed")), { once: true });
  });
  // Replies carry no id: every request is the same command, so each "done" settles the oldest
  // request still waiting (with several in flight, that is enough to count a rate).
  const waiting: (() => void)[] = [];
  ws.addEventListener("message", () => waiting.shift()?.());
  return {
    async sample() {
      const { promise, resolve } = Promise.withResolvers<void>();
      waiting.push(resolve);
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
