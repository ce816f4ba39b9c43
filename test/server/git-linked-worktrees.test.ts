/**
 * Linked worktrees and separate git directories (docs/SECURITY.md, "Protected paths"). A workspace
 * whose `.git` is a file (`gitdir: <path>`) had nothing protected: a command rewrote it to
 * `gitdir: ./evil`, with a config of its own in `evil`, and git on the host took that config (with
 * `core.fsmonitor` in it, ran its program). A main repository's `.git/worktrees/<name>/commondir`
 * is the same redirect for git run in that other worktree. Both are read-only now.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { connect, type TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";

const hasGit = Bun.which("git", { PATH: "/usr/bin:/bin" }) !== null;
if (!hasGit) console.warn("skipping the linked worktree tests: git is not installed");

/** A git directory of the command's own in `evil`, whose config git would take. */
const PLANT_EVIL = [
  "mkdir -p evil/objects evil/refs/heads",
  "printf '[core]\\n\\trepositoryformatversion = 0\\n\\tprobe = planted\\n' > evil/config",
  "echo 'ref: refs/heads/main' > evil/HEAD",
].join(" && ");

const IDENTITY = ["-c", "user.name=bunker", "-c", "user.email=bunker@example.invalid"];

describe.skipIf(noBwrap || !hasGit)("a linked worktree's or a separate git directory's redirects", () => {
  let server: TestServer;
  let separate: TestClient;
  let main: TestClient;
  /** A host directory outside every workspace: the separate git directory, the other worktree, git's home. */
  let outside: string;
  /** Runs git on the host in `cwd` as the workspaces' owner (as someone working there would). */
  let hostGit: (cwd: string, ...args: string[]) => { code: number; stdout: string };

  beforeAll(async () => {
    server = await startServer({ args: ["--sandbox", "bwrap"] });
    separate = await connect(server);
    main = await connect(server);
    outside = mkdtempSync("/var/tmp/bunker-git-outside-");
    chmodSync(outside, 0o777);
    const { uid, gid } = statSync(main.hello.workspace);
    hostGit = (cwd, ...args) => {
      const run = Bun.spawnSync(["git", ...args], {
        cwd,
        env: { PATH: "/usr/bin:/bin", HOME: outside, GIT_CONFIG_NOSYSTEM: "1" },
        ...(process.getuid?.() === 0 && { uid, gid }),
      });
      return { code: run.exitCode, stdout: run.stdout.toString() };
    };
    expect(hostGit(separate.hello.workspace, "init", "-q", "--separate-git-dir", join(outside, "separate.git")).code).toBe(0);
    expect(hostGit(main.hello.workspace, "init", "-q", "-b", "main").code).toBe(0);
    expect(hostGit(main.hello.workspace, ...IDENTITY, "commit", "-q", "--allow-empty", "-m", "first").code).toBe(0);
    expect(hostGit(main.hello.workspace, "worktree", "add", "-q", join(outside, "wt")).code).toBe(0);
  });
  afterAll(async () => {
    await separate?.[Symbol.asyncDispose]();
    await main?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
    rmSync(outside, { recursive: true, force: true });
  });

  test("a .git file is read-only and cannot be removed or moved: git on the host keeps its own repository", async () => {
    const gitFile = join(separate.hello.workspace, ".git");
    const before = readFileSync(gitFile, "utf8");
    expect(before).toBe(`gitdir: ${join(outside, "separate.git")}\n`);
    const run = await separate.exec({
      id: "redirect-git-file",
      cmd: [
        PLANT_EVIL,
        "echo 'gitdir: ./evil' > .git; echo write $?",
        "rm -f .git; echo remove $?",
        "mv .git moved; echo move $?",
        "cat .git",
      ].join("; "),
    });
    // dash exits 2 when a redirection fails.
    expect(run.stdout).toBe(`write 2\nremove 1\nmove 1\n${before}`);
    expect(run.stderr).toContain("Read-only file system");
    expect(run.stderr).toContain("Device or resource busy");
    expect(readFileSync(gitFile, "utf8")).toBe(before);
    expect(hostGit(separate.hello.workspace, "config", "core.probe")).toEqual({ code: 1, stdout: "" });
    expect(hostGit(separate.hello.workspace, "rev-parse", "--git-dir")).toEqual({ code: 0, stdout: `${join(outside, "separate.git")}\n` });
  });

  test("a linked worktree's commondir and gitdir are read-only, and its directory cannot be swapped: git in that worktree keeps the repository", async () => {
    const run = await main.exec({
      id: "redirect-worktree",
      cmd: [
        PLANT_EVIL,
        "echo ../../../evil > .git/worktrees/wt/commondir; echo commondir $?",
        "echo /var/tmp/elsewhere/.git > .git/worktrees/wt/gitdir; echo gitdir $?",
        "mv .git/worktrees/wt .git/worktrees/away; echo move $?",
        "mv .git/worktrees .git/worktrees-away; echo move-all $?",
        "cat .git/worktrees/wt/commondir",
      ].join("; "),
    });
    expect(run.stdout).toBe("commondir 2\ngitdir 2\nmove 1\nmove-all 1\n../..\n");
    const otherWorktree = join(outside, "wt");
    expect(hostGit(otherWorktree, "config", "core.probe")).toEqual({ code: 1, stdout: "" });
    expect(hostGit(otherWorktree, "rev-parse", "--git-common-dir")).toEqual({ code: 0, stdout: `${join(main.hello.workspace, ".git")}\n` });
    expect(hostGit(main.hello.workspace, "worktree", "list", "--porcelain").stdout).toContain(`worktree ${otherWorktree}\n`);
  });

  test("git still works inside: commits in the main worktree, and a worktree the command adds keeps committing in later execs", async () => {
    const git = `git ${IDENTITY.join(" ")}`;
    const first = await main.exec({ id: "git-inside", cmd: `${git} commit -q --allow-empty -m inside && git worktree add -q inner && echo ok` });
    expect(first).toMatchObject({ stdout: "ok\n", stderr: "", exit: { code: 0 } });
    const later = await main.exec({ id: "git-inner", cmd: `${git} -C inner commit -q --allow-empty -m inner && git -C inner log --format=%s -1` });
    expect(later).toMatchObject({ stdout: "inner\n", stderr: "", exit: { code: 0 } });
  });
});
