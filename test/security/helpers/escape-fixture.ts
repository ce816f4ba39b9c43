/**
 * One server for one escape-suite file, laid out like a production host: the workspace root is not
 * under /tmp (a root server's default is /var/lib/bunker/workspaces; under /tmp, `..` of a workspace
 * would land in the sandbox's private /tmp and hide what `..` really reaches), the server has a
 * secret in its environment and its token on its command line, and the host holds a home with an SSH
 * key and a world-writable directory outside every workspace.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type TestClient } from "../../helpers/client.ts";
import { startServer, type TestServer } from "../../helpers/server-process.ts";

/** The value of the secret variable in the server's environment. */
export const SERVER_SECRET = "server-secret-4f9c1e7a";
export const SERVER_SECRET_NAME = "BUNKER_ESCAPE_SECRET";
/** The first line of the fake SSH key in the server user's home. */
export const SSH_KEY_SENTINEL = "-----BEGIN OPENSSH PRIVATE KEY----- escape-suite-7d2b";
/** The content of the world-writable host file outside every workspace. */
export const HOST_FILE_SENTINEL = "host-file-3a8e51";

const euid = process.geteuid?.() ?? -1;
/** Whether the test servers run as root, so that run-as switches their commands to nobody. */
export const serverIsRoot = euid === 0;
/** The host uid and gid that commands run as: nobody under a root server, else the server's own. */
export const COMMAND_UID = serverIsRoot ? 65534 : euid;
export const COMMAND_GID = serverIsRoot ? 65534 : (process.getegid?.() ?? -1);
if (!serverIsRoot) console.warn("escape suite: not running as root, so run-as does not apply; its controls are skipped");

export interface EscapeFixture {
  readonly server: TestServer;
  /** The host directory that holds everything below. */
  readonly hostDir: string;
  /** The server's HOME: mode 0700, with .ssh/id_ed25519 (0600) holding SSH_KEY_SENTINEL. */
  readonly home: string;
  readonly sshKeyPath: string;
  /** A directory (0777) outside every workspace, with `sentinel.txt` (0666): only confinement guards it. */
  readonly outsideDir: string;
  readonly outsideFile: string;
  readonly workspaceRoot: string;
  /** A client of the server in a session of its own, closed by dispose. */
  connect(): Promise<TestClient>;
  /** Closes the clients connect made, stops the server and removes every host file. */
  dispose(): Promise<void>;
}

export interface EscapeFixtureOptions {
  /** Flags after `serve --sandbox bwrap`, or a whole other `--sandbox` choice. */
  args?: string[];
}

/** Starts `bunker serve` for an escape-suite file; `dispose` stops it and removes every host file. */
export async function startEscapeFixture(options: EscapeFixtureOptions = {}): Promise<EscapeFixture> {
  const hostDir = mkdtempSync("/var/tmp/bunker-escape-");
  // Commands run as nobody must be able to pass through to their workspaces (ensureWorkspaceRoot).
  chmodSync(hostDir, 0o711);
  const home = join(hostDir, "home");
  mkdirSync(join(home, ".ssh"), { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
  const sshKeyPath = join(home, ".ssh", "id_ed25519");
  writeFileSync(sshKeyPath, `${SSH_KEY_SENTINEL}\n`, { mode: 0o600 });
  const outsideDir = join(hostDir, "outside");
  mkdirSync(outsideDir);
  chmodSync(outsideDir, 0o777);
  const outsideFile = join(outsideDir, "sentinel.txt");
  writeFileSync(outsideFile, `${HOST_FILE_SENTINEL}\n`);
  chmodSync(outsideFile, 0o666);
  const workspaceRoot = join(hostDir, "workspaces");
  let server: TestServer;
  try {
    server = await startServer({
      args: options.args ?? ["--sandbox", "bwrap"],
      env: { HOME: home, [SERVER_SECRET_NAME]: SERVER_SECRET },
      workspaceRoot,
    });
  } catch (error) {
    rmSync(hostDir, { recursive: true, force: true });
    throw error;
  }
  const clients: TestClient[] = [];
  return {
    server,
    hostDir,
    home,
    sshKeyPath,
    outsideDir,
    outsideFile,
    workspaceRoot,
    async connect() {
      const client = await connect(server);
      clients.push(client);
      return client;
    },
    async dispose() {
      for (const client of clients) await client[Symbol.asyncDispose]();
      await server[Symbol.asyncDispose]();
      rmSync(hostDir, { recursive: true, force: true });
    },
  };
}
