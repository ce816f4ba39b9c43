import { VERSION } from "../version.ts";

/** `bunker --help`. */
export const MAIN_HELP = `bunker ${VERSION}: sandboxed commands over WebSocket, streamed as they run.

Usage:
  bunker serve [flags]     start the server (bunker serve --help for its flags)
  bunker --version         print the version and commit
  bunker --help            this text
`;

/** `bunker serve --help`. */
export const SERVE_HELP = `Usage: bunker serve [flags]

Starts the WebSocket server. Each connection to /ws is a session with its own workspace;
each exec runs inside the sandbox and streams its output back as it is produced.

Listening:
  --host ADDR                  address to bind (default 127.0.0.1)
  --port N                     port (default 7681; 0 picks a free one and prints it)
Access:
  --token TOKEN                the token clients must present (or BUNKER_TOKEN); without
                               either, a random one is generated and printed once
  --no-auth                    accept every client (only on a trusted machine)
  --allow-origin ORIGIN        a browser origin besides the server's own (repeatable)
Sandbox:
  --sandbox auto|bwrap|seatbelt|none
                               auto (default) probes the platform's sandbox and falls back
                               to none with a warning; a named backend that fails refuses to start
  --require-sandbox            refuse to run without OS isolation
  --allow-network              let commands use the network (off by default)
Workspaces:
  --workspace-root DIR         where workspaces live (or BUNKER_WORKSPACE_ROOT;
                               default ~/.bunker/workspaces)
  --workspace-retention keep|delete
                               what happens to a workspace when its session ends (default delete)
Limits:
  --max-execs-per-session N    concurrent execs per session (default 16)
  --max-execs N                concurrent execs per server (default 64)
  --exec-timeout-ms N          timeout of execs that give none (default 0: the maximum)
  --max-exec-timeout-ms N      cap on any exec's timeout (default 0: none)
  --max-output-bytes N         default and cap of an exec's output (default: no limit)
  --max-frame-bytes N          largest client frame; bigger ones close with 1009 (default 1048576)
`;
