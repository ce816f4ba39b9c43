/**
 * The server's own secret files and the operator's --deny-read paths stay out of the sandbox, though
 * a directory commands see (/etc) holds them.
 *
 * A server that is not root (the systemd unit's `User=bunker`, a developer's machine) runs its
 * commands as its own uid, which may read its own config file: the token was readable by every
 * command (found by an audit) and with it, on a server with --allow-network, a command could join
 * every named session. A root server runs commands as 65534, and its config file often lies in a
 * directory 65534 cannot enter, where bwrap cannot mount over it: execs must still run.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HelloMessage } from "../../src/protocol/index.ts";
import { connect } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startServer, TEST_TOKEN } from "../helpers/server-process.ts";
import { canRunAsUser, SERVER_UID, useServerAsUser } from "../helpers/server-as-user.ts";

const isRoot = process.getuid?.() === 0;
// Directories under /etc, where an operator keeps a service's configuration; bwrap binds /etc.
const made: string[] = [];
function etcDirectory(mode: number): string {
  const directory = mkdtempSync(join("/etc", "bunker-secrets-test-"));
  chmodSync(directory, mode);
  made.push(directory);
  return directory;
}
afterAll(() => {
  for (const directory of made) rmSync(directory, { recursive: true, force: true });
});

const userDir = canRunAsUser ? etcDirectory(0o755) : "";
const configPath = join(userDir, "config.json");
const privateDir = join(userDir, "private");
const deniedFile = join(userDir, "deploy-key");
if (canRunAsUser) {
  // Mode 0600 and owned by the server's user, as the startup warning asks: readable by that very uid.
  writeFileSync(configPath, `${JSON.stringify({ token: TEST_TOKEN })}\n`, { mode: 0o600 });
  mkdirSync(privateDir, { mode: 0o755 });
  writeFileSync(join(privateDir, "secret.txt"), "private-directory-secret\n");
  writeFileSync(deniedFile, "deploy-key-secret\n", { mode: 0o600 });
  for (const path of [configPath, privateDir, join(privateDir, "secret.txt"), deniedFile]) chownSync(path, SERVER_UID, SERVER_UID);
}

describe("a server that runs commands as its own user", () => {
  const shared = useServerAsUser(["--sandbox", "bwrap", "--config", configPath, "--deny-read", privateDir, "--deny-read", deniedFile], !noBwrap);

  test("its config file, holding the token, cannot be opened by its commands; nor can a --deny-read file", async () => {
    const { server } = shared;
    if (!server) throw new Error("needs root and setpriv to run the server as another uid");
    await using client = await connect(server);
    const config = await client.exec({ id: "config", argv: ["cat", configPath] });
    expect({ stdout: config.stdout, stderr: config.stderr, code: config.exit.code }).toEqual({ stdout: "", stderr: `/usr/bin/cat: ${configPath}: Permission denied\n`, code: 1 });
    const key = await client.exec({ id: "key", argv: ["cat", deniedFile] });
    expect({ stdout: key.stdout, code: key.exit.code }).toEqual({ stdout: "", code: 1 });
    // Not by some accident of the sandbox: the server's user reads both on the host.
    expect(await Bun.file(configPath).text()).toContain(TEST_TOKEN);
  });

  test("a --deny-read directory is empty and cannot be written; the rest of /etc reads as before", async () => {
    const { server } = shared;
    if (!server) throw new Error("needs root and setpriv to run the server as another uid");
    await using client = await connect(server);
    const listing = await client.exec({ id: "ls", cmd: `ls -A ${privateDir}; cat ${privateDir}/secret.txt; touch ${privateDir}/x` });
    expect(listing.stdout).toBe("");
    expect(listing.stderr).toContain("No such file or directory");
    expect(listing.stderr).toMatch(/Read-only file system|Permission denied/);
    const hostname = await client.exec({ id: "hostname", argv: ["cat", "/etc/passwd"] });
    expect(hostname.stdout).toContain("root:");
  });

  test("hello names every hidden path", async () => {
    const { server } = shared;
    if (!server) throw new Error("needs root and setpriv to run the server as another uid");
    await using client = await connect(server);
    const hello = client.hello as HelloMessage;
    expect([...(hello.sandbox.policy?.denyRead ?? [])].sort()).toEqual([configPath, deniedFile, privateDir].sort());
  });
});

describe("a secret inside an --allow-write directory", () => {
  // Commands may rename any directory inside a writable bind: the mount that hides the secret
  // follows its directory in that sandbox, and the next sandbox's mount lands on the old path,
  // made anew, while the secret sits unhidden at the new one (found by a review). Path rules
  // (seatbelt's) are undone the same way. Refused at start; the server never runs so.
  test("is refused at start: a command could move it from under its mount", async () => {
    const writable = mkdtempSync(join(tmpdir(), "bunker-secrets-writable-"));
    made.push(writable);
    // Writable by whatever user commands run as (65534 under a root server).
    chmodSync(writable, 0o777);
    const conf = join(writable, "conf");
    mkdirSync(conf);
    const config = join(conf, "config.json");
    writeFileSync(config, `${JSON.stringify({ token: TEST_TOKEN })}\n`, { mode: 0o644 });
    const outcome = await startServer({ args: ["--sandbox", noBwrap ? "none" : "bwrap", "--config", config, "--allow-write", writable] }).then(
      async (server) => {
        // Started: show what a command reads, to make the failure say why it matters.
        await using _server = server;
        await using client = await connect(server);
        await client.exec({ id: "move", argv: ["mv", conf, join(writable, "moved")] });
        const read = await client.exec({ id: "read", argv: ["cat", join(writable, "moved", "config.json")] });
        return `started; a command read ${JSON.stringify(read.stdout)}`;
      },
      (error: Error) => error.message,
    );
    expect(outcome).toContain(`${JSON.stringify(config)} cannot be hidden from commands: it lies inside --allow-write ${JSON.stringify(writable)}`);
  });
});

describe.if(isRoot && !noBwrap)("a root server, running commands as 65534", () => {
  test("a program lookup does not tell what a --deny-read directory holds", async () => {
    // The server looks a bare program name up on the host, in what the sandbox shows: not in what
    // it hides, or "not found on PATH" or not would say which names the directory holds.
    const hidden = etcDirectory(0o755);
    writeFileSync(join(hidden, "present"), "#!/bin/sh\necho ran\n", { mode: 0o755 });
    await using server = await startServer({ args: ["--sandbox", "bwrap", "--deny-read", hidden] });
    await using client = await connect(server);
    const answers = [];
    for (const name of ["present", "absent"]) {
      const run = await client.exec({ id: name, argv: [name], env: { PATH: hidden } });
      answers.push(run.messages.map((message) => ("code" in message ? `${message.type} ${message.code}` : message.type)));
    }
    expect(answers[0]).toEqual(answers[1]!);
  });

  // The config file in a directory only root may enter, as /etc/bunker often is: commands cannot
  // reach it, and bwrap, running as 65534, could not mount over it.
  const closedDir = isRoot ? etcDirectory(0o700) : "";
  const openDir = isRoot ? etcDirectory(0o755) : "";
  const rootConfig = join(closedDir, "config.json");
  const readable = join(openDir, "world-readable-secret");
  const rootOnly = join(openDir, "tls.key");
  if (isRoot) {
    writeFileSync(rootConfig, `${JSON.stringify({ token: TEST_TOKEN })}\n`, { mode: 0o600 });
    writeFileSync(readable, "readable-by-everyone\n", { mode: 0o644 });
    writeFileSync(rootOnly, "root-only\n", { mode: 0o600 });
  }

  test("runs commands with its config in a closed directory, and hides --deny-read files, readable or not", async () => {
    await using server = await startServer({ args: ["--sandbox", "bwrap", "--config", rootConfig, "--deny-read", readable, "--deny-read", rootOnly] });
    await using client = await connect(server);
    const run = await client.exec({ id: "read", cmd: `cat ${readable}; echo done` });
    expect({ stdout: run.stdout, stderr: run.stderr }).toEqual({ stdout: "done\n", stderr: `cat: ${readable}: Permission denied\n` });
    // Only what commands could reach is hidden, and named.
    expect((client.hello as HelloMessage).sandbox.policy?.denyRead).toEqual([readable, rootOnly]);
  });
});
