/**
 * A command that cannot write `.git/config` or `.git/hooks` (protected: read-only under bwrap) wrote
 * `.git/commondir` instead, naming a directory of its own whose `config` git on the host then read
 * (with `core.fsmonitor` in it, `git status` on the host ran the command's program; found by a
 * review). The server now removes such a redirect before each exec and after each one ends.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { connect, type TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";

const hasGit = Bun.which("git", { PATH: "/usr/bin:/bin" }) !== null;
if (!hasGit) console.warn("skipping the git redirect tests: git is not installed");

/** What the command plants: a git directory of its own, with a config git would take, and `.git/commondir` naming it. */
const PLANT_REDIRECT = [
  "mkdir -p elsewhere/objects elsewhere/refs/heads",
  "printf '[core]\\n\\trepositoryformatversion = 0\\n\\tprobe = planted\\n' > elsewhere/config",
  "echo ../elsewhere > .git/commondir",
  "cat .git/commondir",
].join(" && ");

describe.skipIf(noBwrap || !hasGit)("a redirect of a protected repository's git directory", () => {
  let server: TestServer;
  let client: TestClient;
  /** A home for git on the host with no config in it. */
  let home: string;
  /** Runs git on the host in the workspace, as its owner (as someone working in a kept workspace would). */
  let hostGit: (...args: string[]) => { code: number; stdout: string };

  beforeAll(async () => {
    server = await startServer({ args: ["--sandbox", "bwrap"] });
    client = await connect(server);
    home = mkdtempSync("/var/tmp/bunker-git-home-");
    chmodSync(home, 0o777);
    const { uid, gid } = statSync(client.hello.workspace);
    hostGit = (...args) => {
      const run = Bun.spawnSync(["git", ...args], {
        cwd: client.hello.workspace,
        env: { PATH: "/usr/bin:/bin", HOME: home, GIT_CONFIG_NOSYSTEM: "1" },
        ...(process.getuid?.() === 0 && { uid, gid }),
      });
      return { code: run.exitCode, stdout: run.stdout.toString() };
    };
    // A checkout the host put in the workspace: its .git/config and .git/hooks are protected.
    expect(hostGit("init", "-q").code).toBe(0);
  });
  afterAll(async () => {
    await client?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
    rmSync(home, { recursive: true, force: true });
  });

  test("is gone once the exec that wrote it ends, and git on the host reads the repository's own config", async () => {
    const logged = server.nextStderr(/removed (\S+) from the workspace of session/);
    const run = await client.exec({ id: "plant", cmd: PLANT_REDIRECT });
    expect(run.stdout).toBe("../elsewhere\n");
    expect(existsSync(join(client.hello.workspace, ".git", "commondir"))).toBe(false);
    expect(hostGit("rev-parse", "--git-common-dir")).toEqual({ code: 0, stdout: ".git\n" });
    expect(hostGit("config", "core.probe")).toEqual({ code: 1, stdout: "" });
    expect((await logged)[1]).toBe(".git/commondir");
  });

  test("is gone once the persistent shell's command that wrote it ends", async () => {
    const run = await client.exec({ id: "plant-in-shell", shell: "main", cmd: PLANT_REDIRECT });
    expect(run.stdout).toBe("../elsewhere\n");
    expect(existsSync(join(client.hello.workspace, ".git", "commondir"))).toBe(false);
    expect(hostGit("config", "core.probe")).toEqual({ code: 1, stdout: "" });
  });
});
