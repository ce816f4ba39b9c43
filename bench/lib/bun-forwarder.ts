/** The bare Bun.serve forwarder (peers/bun-forwarder.ts) as a benchmark peer, in a process of its own like bunker. */
import { startPeerProcess } from "./peer-process.ts";

export interface BunForwarder extends AsyncDisposable {
  readonly url: string;
  readonly pid: number;
}

export interface BunForwarderOptions {
  argv: readonly string[];
  env: Record<string, string>;
  cwd: string;
  runAs?: { uid: number; gid: number } | undefined;
}

/** Starts the forwarder and waits for its port. */
export async function startBunForwarder(options: BunForwarderOptions): Promise<BunForwarder> {
  const { port, proc } = await startPeerProcess("bun-forwarder.ts", options);
  return {
    url: `ws://127.0.0.1:${port}/`,
    pid: proc.pid,
    async [Symbol.asyncDispose]() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
