/**
 * The floor under bunker's exec round trip: a bare Bun.serve in a process of its own that, for each
 * message on a persistent connection, makes exactly the spawn the benchmark's bare contender makes
 * (runBareSpawn: same argv, env, stdio, input files and uid) and answers "done". One process hop
 * and nothing else: no protocol, no validation, no sessions, no logs.
 * Usage: bun bun-exec-server.ts <{ command, runAs } as JSON>; prints its port.
 */
import { openSync } from "node:fs";
import type { SandboxCommand } from "../../src/sandbox/types.ts";
import { runBareSpawn } from "../lib/sandbox-spawn.ts";

const { command: given, runAs } = JSON.parse(process.argv[2] ?? "{}") as { command: SandboxCommand; runAs?: { uid: number; gid: number } };
// The fds the command passes (the setup namespace's, protected paths) are the benchmark's, our
// parent's: the same files, opened here through its /proc entry.
const command: SandboxCommand = {
  ...given,
  passFds: (given.passFds ?? []).map((pass) => ({ fd: pass.fd, hostFd: openSync(`/proc/${process.ppid}/fd/${pass.hostFd}`, "r") })),
};

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (request, server) => (server.upgrade(request) ? undefined : new Response("WebSocket only\n", { status: 426 })),
  websocket: {
    perMessageDeflate: false,
    async message(ws) {
      await runBareSpawn(command, runAs);
      ws.send("done");
    },
  },
});
process.stdout.write(`${server.port}\n`);
