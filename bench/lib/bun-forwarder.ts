/** The bare Bun.serve forwarder (peers/bun-forwarder.ts) as a benchmark peer, in a process of its own like bunker. */
import { join } from "node:path";
import { BUN } from "../../test/helpers/server-process.ts";

export interface BunForwarder extends AsyncDisposable {
  readonly url: string;
}

export interface BunForwarderOptions {
  argv: readonly string[];
  env: Record<string, string>;
  cwd: string;
  runAs?: { uid: number; gid: number } | undefined;
}

const PEER = join(import.meta.dir, "..", "peers", "bun-forwarder.ts");

/** Starts the forwarder and waits for its port. */
export async function startBunForwarder(options: BunForwarderOptions): Promise<BunForwarder> {
  const proc = Bun.spawn([BUN, PEER, JSON.stringify(options)], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of proc.stdout) {
    text += decoder.decode(chunk, { stream: true });
    if (text.includes("\n")) break;
  }
  const port = Number.parseInt(text, 10);
  if (!Number.isInteger(port)) {
    proc.kill("SIGKILL");
    throw new Error(`the Bun.serve forwarder did not start: ${JSON.stringify(text)}`);
  }
  return {
    url: `ws://127.0.0.1:${port}/`,
    async [Symbol.asyncDispose]() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
