/** websocketd (the Debian package) as a benchmark peer: one process per connection, by design. */
import type { Subprocess } from "bun";
import { peerServer, type PeerServer } from "./peer-process.ts";

/** A running websocketd. */
export type Websocketd = PeerServer;

export interface WebsocketdOptions {
  /** The program websocketd runs for every connection. */
  argv: readonly string[];
  /** Binary frames: stdout bytes as they are read, instead of one text message per line. */
  binary?: boolean;
  /** The environment of websocketd, passed on whole to its children (plus its CGI variables). */
  env: Record<string, string>;
  /** websocketd's working directory, which its children inherit. */
  cwd: string;
  /** Run websocketd (and so its children) as this uid and gid, as bunker runs its commands. */
  runAs?: { uid: number; gid: number } | undefined;
}

/** Whether websocketd is installed here. */
export function hasWebsocketd(): boolean {
  return Bun.which("websocketd") !== null;
}

async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

async function waitUntilListening(port: number, proc: Subprocess, deadlineMs: number): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`websocketd exited with ${proc.exitCode} before listening`);
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return;
    } catch {
      if (performance.now() > deadline) throw new Error(`websocketd did not listen on port ${port} within ${deadlineMs} ms`);
      await Bun.sleep(10);
    }
  }
}

/**
 * Starts websocketd on a free loopback port. Its access log is off (`--loglevel error`), as bunker
 * logs nothing per connection either.
 */
export async function startWebsocketd(options: WebsocketdOptions): Promise<Websocketd> {
  const port = await freePort();
  const dropPrivileges = options.runAs
    ? ["setpriv", `--reuid=${options.runAs.uid}`, `--regid=${options.runAs.gid}`, "--clear-groups", "--"]
    : [];
  const proc = Bun.spawn(
    [
      ...dropPrivileges,
      "websocketd",
      "--address=127.0.0.1",
      `--port=${port}`,
      "--loglevel=error",
      `--passenv=${Object.keys(options.env).join(",")}`,
      ...(options.binary ? ["--binary"] : []),
      ...options.argv,
    ],
    { cwd: options.cwd, env: options.env, stdin: "ignore", stdout: "ignore", stderr: "inherit" },
  );
  try {
    await waitUntilListening(port, proc, 5000);
  } catch (error) {
    proc.kill("SIGKILL");
    throw error;
  }
  return peerServer(port, proc);
}
