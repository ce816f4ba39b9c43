/** The bare Bun.serve forwarder (peers/bun-forwarder.ts) as a benchmark peer, in a process of its own like bunker. */
import { peerServer, startPeerProcess, type PeerServer } from "./peer-process.ts";

export type BunForwarder = PeerServer;

export interface BunForwarderOptions {
  argv: readonly string[];
  env: Record<string, string>;
  cwd: string;
  runAs?: { uid: number; gid: number } | undefined;
  /** How output goes out: binary frames (the default), or bunker's JSON `output` messages in base64. */
  encoding?: "binary" | "base64";
}

/** Starts the forwarder and waits for its port. */
export async function startBunForwarder(options: BunForwarderOptions): Promise<BunForwarder> {
  const { port, proc } = await startPeerProcess("bun-forwarder.ts", options);
  return peerServer(port, proc);
}
