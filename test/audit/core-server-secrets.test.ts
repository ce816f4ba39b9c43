/**
 * Audit of issues 2 and 3: the server's own secret files must stay out of the sandbox.
 *
 * A server that is not root (the systemd unit's `User=bunker`, a developer's machine) runs its
 * commands as its own uid. bwrap binds /etc and /usr read-only at their host paths, so every file
 * there that the server's user may read, its commands may read too. That includes the files that
 * hold the server's secrets: a `--config` file with the token (the server's own warning says to
 * `chmod 600` it, which leaves it readable by that very uid) and the `--tls-key`. With the token a
 * command on a server with `--allow-network` can join every named session (no secret needed).
 *
 * Defect, not fixed on this branch: the fix is to hide those files in the sandbox (bwrap
 * `--ro-bind /dev/null <path>` for the config file and the TLS key, resolved at startup and carried
 * in SandboxPolicy; seatbelt `(deny file-read* (literal ...))`), which touches cli/serve.ts,
 * server/options.ts, server/session-parts.ts, sandbox/types.ts and sandbox/bwrap.ts. Remove `.todo`
 * once that lands.
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { TEST_TOKEN } from "../helpers/server-process.ts";
import { canRunAsUser, SERVER_UID, useServerAsUser } from "../helpers/server-as-user.ts";

// A directory under /etc, where an operator keeps a service's configuration; bwrap binds /etc.
const configDir = canRunAsUser ? mkdtempSync(join("/etc", "bunker-audit-")) : "";
const configPath = join(configDir, "config.json");
if (canRunAsUser) {
  // Traversable, as /etc/<service> directories are: mkdtemp makes it 0700.
  chmodSync(configDir, 0o755);
  writeFileSync(configPath, `${JSON.stringify({ token: TEST_TOKEN })}\n`, { mode: 0o600 });
  // The server's user must read its own config: owner, mode 0600, as the startup warning asks.
  chownSync(configPath, SERVER_UID, SERVER_UID);
}
afterAll(() => {
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

const shared = useServerAsUser(["--sandbox", "bwrap", "--config", configPath], !noBwrap);

test.todo("a command cannot read the server's config file, which holds the token, though it lies in /etc", async () => {
  const { server } = shared;
  if (!server) throw new Error("needs root and setpriv to run the server as another uid");
  await using client = await connect(server);
  const run = await client.exec({ id: "read-config", argv: ["cat", configPath] });
  expect(run.stdout).not.toContain(TEST_TOKEN);
  expect(run.exit.code).not.toBe(0);
});
