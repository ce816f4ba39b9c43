/** A benchmark peer (bench/peers/*.ts) in a process of its own, like bunker: started with its spec as JSON, it prints its port. */
import { join } from "node:path";
import type { Subprocess } from "bun";
import { BUN } from "../../test/helpers/server-process.ts";

export interface PeerProcess {
  readonly port: number;
  readonly proc: Subprocess;
}

/** A peer server as the benchmarks hold it: where to connect, its pid, and a dispose that stops it (SIGTERM) and waits. */
export interface PeerServer extends AsyncDisposable {
  readonly url: string;
  readonly pid: number;
}

/** The PeerServer of a process listening on `port` of loopback. */
export function peerServer(port: number, proc: Subprocess): PeerServer {
  return {
    url: `ws://127.0.0.1:${port}/`,
    pid: proc.pid,
    async [Symbol.asyncDispose]() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** Starts `bench/peers/<file>` with `spec` and waits for the port it prints. */
export async function startPeerProcess(file: string, spec: unknown): Promise<PeerProcess> {
  const proc = Bun.spawn([BUN, join(import.meta.dir, "..", "peers", file), JSON.stringify(spec)], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of proc.stdout) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("\n")) break;
  }
  const port = Number.parseInt(text, 10);
  if (!Number.isInteger(port)) {
    proc.kill("SIGKILL");
    throw new Error(`${file} did not start: ${JSON.stringify(text)}`);
  }
  return { port, proc };
}
