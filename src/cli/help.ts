import { VERSION } from "../version.ts";

/** `bunker --help`. */
export const MAIN_HELP = `bunker ${VERSION}: sandboxed commands over WebSocket, streamed as they run.

Usage:
  bunker serve [flags]     start the server (bunker serve --help for its flags)
  bunker doctor [--json]   which sandboxes exist and work here, why not, and the fix
  bunker config [flags]    the settings serve would run with, secrets redacted (bunker config --help)
  bunker exec [flags] -- command [args...]
                           run a command on a server, streamed here (bunker exec --help)
  bunker shell [flags]     an interactive shell on a server (bunker shell --help)
  bunker --version         print the version and commit
  bunker --help            this text
`;

/** `bunker serve --help`. */
export const SERVE_HELP = `Usage: bunker serve [flags]

Starts the WebSocket server and the terminal page at /. A connection to /ws opens a session with
its own workspace (or resumes one: docs/PROTOCOL.md); each exec runs inside the sandbox and streams
its output back as it is produced. Sessions outlive their sockets for the TTLs below. GET /healthz
answers without a token; GET /metrics (Prometheus) asks for it. See docs/OPERATIONS.md.

Every setting is also a BUNKER_* environment variable (--max-execs is BUNKER_MAX_EXECS; lists
comma-separated; booleans 1/0/true/false) and a key of a JSON config file (maxExecs). Flags win over
the environment, which wins over the file. \`bunker config\` prints what results.
  --config FILE                a JSON config file (or BUNKER_CONFIG)

Listening:
  --host ADDR                  address to bind (default 127.0.0.1); any address but loopback
                               needs TLS or --insecure-bind
  --port N                     port (default 7681; 0 picks a free one and prints it)
  --tls-cert FILE              PEM certificate chain; with --tls-key: wss:// and https://
  --tls-key FILE               PEM private key of --tls-cert
  --insecure-bind              bind a non-loopback address without TLS (TLS ends in a proxy in
                               front); warns
  --trust-proxy                the client address is the last X-Forwarded-For entry (only when
                               clients reach bunker through a proxy)
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
  --workspace-root DIR         where workspaces live (or BUNKER_WORKSPACE_ROOT; default
                               ~/.bunker/workspaces, /var/lib/bunker/workspaces for root)
  --workspace-retention keep|delete
                               what happens to a workspace when its session ends (default delete)
Limits:
  --max-execs-per-session N    concurrent execs per session (default 16); a live
                               persistent shell counts as one
  --max-execs N                concurrent execs per server (default 64; shells count too)
  --exec-timeout-ms N          timeout of execs that give none (default 0: the maximum)
  --max-exec-timeout-ms N      cap on any exec's timeout (default 0: none)
  --max-output-bytes N         default and cap of an exec's output (default: no limit)
  --max-frame-bytes N          largest client frame; bigger ones close with 1009 (default 1048576)
  --max-sessions N             sessions held at once, with or without sockets (default 1000)
  --output-log-bytes N         output kept per stream of each exec for replay (default 1048576)
  --max-connections N          open WebSocket connections, all clients (default 10000); more: 503
  --max-connections-per-address N
                               open connections per client address, an IPv6 /64 as one
                               (default 1000); more: 429
  --max-messages-per-second N  per connection, twice that in a burst (default 1000); more closes
                               the connection with 4029 (its session goes on)
  --idle-timeout DURATION      a connection silent this long, pongs included, is closed (1006);
                               idle ones are pinged before (default 45s: about every 30s, within
                               a proxy's usual 60s; 8s to 960s)

Sandbox policy:
  --run-as UID[:GID]           host uid/gid of commands (env BUNKER_RUN_AS; default 65534 when the server is root)
  --limit-cpu-seconds N        CPU seconds per exec (default 600); a request may lower each limit
  --limit-address-space-bytes N  address space per process (default 8 GiB)
  --limit-file-size-bytes N    largest file a command may write (default 2 GiB)
  --limit-open-files N         open files per process (default 4096)
  --limit-processes N          processes per exec, counted inside its sandbox (default 1024)
  --tmp-size-bytes N           size of each sandbox's private /tmp (default 512 MiB)
  --workspace-quota-bytes N    quota for file writes and uploads through the file API (default none)
  --protect PATH               a path inside each workspace that commands see read-only when it
                               exists (repeatable; .git/hooks and .git/config always are)
  --allow-read PATH            an extra host path commands may read (repeatable; bwrap only)
  --allow-write PATH           an extra host path commands may write (repeatable; bwrap only)

Sessions:
  --detach-ttl DURATION        how long commands keep running with no socket joined (default 10m)
  --hold-output DURATION       after a socket drops, how long commands block rather than drop output (default 60s)
  --session-idle-ttl DURATION  how long a session with no socket and nothing running stays resumable (default 10m)
  --host-id ID                 this instance's name in hello.host (env BUNKER_HOST_ID; default the hostname)

Logs and metrics:
  --log-format json|pretty     json: one object a line on stderr; pretty (default): sentences
  --log-level debug|info|warn|error
                               lowest level written (default info); every exec and connection
                               is an info line, never with a token, a secret, an env value or output
  --metrics-public             serve GET /metrics without the token
`;

/** \`bunker config --help\`. */
export const CONFIG_HELP = `Usage: bunker config [serve flags] [--sources]

Prints the settings \`bunker serve\` would run with given the same flags, BUNKER_* environment and
config file (--config), as a JSON config file that serve --config reads back to the same settings.
Secrets (the token) are never printed: the file holds "<redacted>" in their place, which serve
refuses as a token, and a line on stderr says how to give serve the real one. A bad setting exits 2 with one line naming it, as serve would. The sandbox
is not probed: see bunker doctor.

Flags:
  --sources                    a table instead: each setting, its value (a secret as <redacted>),
                               and where it came from
  --help                       this text
`;

/** `bunker doctor --help`. */
export const DOCTOR_HELP = `Usage: bunker doctor [flags]

Checks which sandbox backends exist on this host and which work, by running each once with the
server's own flags; for each that does not, says why (a missing package, user namespaces off,
AppArmor's restriction on Ubuntu 24.04 and later, an unprivileged container) and how to fix it.
Ends with the backend \`bunker serve --sandbox auto\` would pick. See docs/TROUBLESHOOTING.md.

Flags:
  --json                       print the report as JSON (the verdicts and the facts behind them)
  --help                       this text

Exit status: 0 when a real sandbox (bwrap or seatbelt) works, 1 when only the workspace-only
fallback is left, 2 on a bad flag.
`;
