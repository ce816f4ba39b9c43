/** The bare Bun.serve forwarder (peers/bun-forwarder.ts) as a benchmark peer, in a process of its own like bunker. */
import { peerServer, startPeerProcess, type PeerServer } from "./peer-process.ts";

export type BunForwarder = PeerServer;

export interface BunForwarderOptions {
  argv: readonly string[];
  env: Record<string, string>;
  cwd: string;
  runAs?: { uid: number; gid: number } | undefined;
}

/** Starts the forwarder and waits for its port. */
export async function startBunForwarder(options: BunForwarderOptions): Promise<BunForwarder> {
  const { port, proc } = await startPeerProcess("bun-forwarder.ts", options);
  return peerServer(port, proc);
}
