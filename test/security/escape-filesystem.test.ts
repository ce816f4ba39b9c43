// Escape suite: writing outside the workspace (docs/SECURITY.md, "Escape suite").
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { connect, type TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { COMMAND_GID, COMMAND_UID, HOST_FILE_SENTINEL, startEscapeFixture, type EscapeFixture } from "./helpers/escape-fixture.ts";

describe.skipIf(noBwrap)("escape suite: writing outside the workspace", () => {
  let fixture: EscapeFixture;
  let client: TestClient;
  beforeAll(async () => {
    fixture = await startEscapeFixture();
    client = await fixture.connect();
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  /** The host directory outside every workspace is exactly as the fixture made it. */
  function expectOutsideUntouched() {
    expect(readdirSync(fixture.outsideDir)).toEqual(["sentinel.txt"]);
    expect(readFileSync(fixture.outsideFile, "utf8")).toBe(`${HOST_FILE_SENTINEL}\n`);
  }

  test("an absolute path to a world-writable host directory does not exist inside", async () => {
    const target = join(fixture.outsideDir, "planted.txt");
    const run = await client.exec({ id: "absolute", cmd: `echo pwned > ${target}` });
    expect(run.exit).toMatchObject({ code: 2, reason: "exited" });
    expect(run.stderr).toBe(`/bin/sh: 1: cannot create ${target}: Directory nonexistent\n`);
    expectOutsideUntouched();
  });

  test("`..` climbs only into the sandbox's own mount points, never to the host's files", async () => {
    const run = await client.exec({ id: "dotdot", cmd: "cat ../../outside/sentinel.txt; echo pwned > ../../outside/planted.txt" });
    expect(run.exit).toMatchObject({ code: 2, reason: "exited" });
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(
      /^\S*cat: \.\.\/\.\.\/outside\/sentinel\.txt: No such file or directory\n\/bin\/sh: 1: cannot create \.\.\/\.\.\/outside\/planted\.txt: Directory nonexistent\n$/,
    );
    expectOutsideUntouched();
  });

  test("a file written to `..` (the workspace root) stays in the sandbox: the host's workspace root is unchanged", async () => {
    const run = await client.exec({ id: "parent", cmd: "echo pwned > ../planted.txt && cat ../planted.txt" });
    // `..` is in the tmpfs bwrap made to hold the mount point, which bunker remounts read-only.
    expect(run.exit).toMatchObject({ code: 2, reason: "exited" });
    expect(run.stderr).toBe("/bin/sh: 1: cannot create ../planted.txt: Read-only file system\n");
    // The server's own file (the servers of a root register in it), the key of workspace names and
    // the session's workspace: nothing planted.
    // The spare workspace (spare-workspace.ts), empty, is there or being made: left out.
    const entries = readdirSync(fixture.workspaceRoot)
      .filter((name) => !/^\.spare-\d+-[\w-]{22}$/.test(name) || readdirSync(join(fixture.workspaceRoot, name)).length > 0)
      .map((name) => name.replace(/^\.bunker-server\.\d+\.[0-9a-f]+\.lock$/, "<server file>"));
    expect(entries.sort()).toEqual(["<server file>", ".bunker-naming-key", basename(client.hello.workspace)].sort());
  });

  test("writing through a symlink made in the workspace that points out fails: its target does not exist inside", async () => {
    const run = await client.exec({ id: "symlink", cmd: `ln -s ${fixture.outsideFile} out-link && echo pwned > out-link` });
    expect(run.exit).toMatchObject({ code: 2, reason: "exited" });
    expect(run.stderr).toBe("/bin/sh: 1: cannot create out-link: Directory nonexistent\n");
    expectOutsideUntouched();
  });

  test("the server's file API refuses the symlink the command planted, for reading and for writing", async () => {
    await client.exec({ id: "plant", cmd: `ln -s ${fixture.outsideFile} leak && ln -s /etc/shadow shadow && ln -s ${fixture.outsideDir} dir-link` });
    const refusal = (id: string, path: string, link: string) =>
      ({
        type: "error",
        id,
        code: "path_outside_workspace",
        message: `path: ${JSON.stringify(path)} leads outside the workspace through the symlink ${link}`,
      }) as const;
    // The server runs as root: following these links would read /etc/shadow for the command.
    client.send({ type: "file.read", id: "read-leak", path: "leak" });
    expect(await client.next((m) => "id" in m && m.id === "read-leak")).toEqual(refusal("read-leak", "leak", "leak"));
    client.send({ type: "file.read", id: "read-shadow", path: "shadow" });
    expect(await client.next((m) => "id" in m && m.id === "read-shadow")).toEqual(refusal("read-shadow", "shadow", "shadow"));
    client.send({ type: "file.write", id: "write-leak", path: "leak", data: "pwned" });
    expect(await client.next((m) => "id" in m && m.id === "write-leak")).toEqual(refusal("write-leak", "leak", "leak"));
    client.send({ type: "file.write", id: "write-dir", path: "dir-link/planted.txt", data: "pwned" });
    expect(await client.next((m) => "id" in m && m.id === "write-dir")).toEqual(refusal("write-dir", "dir-link/planted.txt", "dir-link"));
    expectOutsideUntouched();
  });

  test("ending a session removes its workspace without following the symlinks planted in it", async () => {
    const victim = await connect(fixture.server);
    const run = await victim.exec({ id: "plant", cmd: `ln -s ${fixture.outsideDir} dir-link && ln -s ${fixture.outsideFile} file-link && echo planted` });
    expect(run.stdout).toBe("planted\n");
    victim.send({ type: "close" });
    // `closed`, and the close code after it, come once the workspace is deleted.
    expect(await victim.closed).toMatchObject({ code: 4000 });
    expect(existsSync(victim.hello.workspace)).toBe(false);
    expectOutsideUntouched();
  });

  test("a hard link to a read-only host file fails across the bind mount", async () => {
    const run = await client.exec({ id: "hardlink-etc", argv: ["ln", "/etc/passwd", "passwd-link"] });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stderr).toMatch(/^\S*ln: failed to create hard link 'passwd-link' => '\/etc\/passwd': Invalid cross-device link\n$/);
  });

  test("a hard link to a host file outside the workspace cannot name it", async () => {
    const run = await client.exec({ id: "hardlink-out", argv: ["ln", fixture.outsideFile, "sentinel-link"] });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stderr).toMatch(new RegExp(`^\\S*ln: failed to access '${fixture.outsideFile}': No such file or directory\\n$`));
    expect(statSync(fixture.outsideFile).nlink).toBe(1);
  });

  test("/etc and /usr are read-only", async () => {
    const run = await client.exec({ id: "ro", cmd: "echo x > /etc/bunker-escape; echo x > /usr/bin/bunker-escape" });
    expect(run.exit).toMatchObject({ code: 2, reason: "exited" });
    expect(run.stderr).toBe(
      "/bin/sh: 1: cannot create /etc/bunker-escape: Read-only file system\n/bin/sh: 1: cannot create /usr/bin/bunker-escape: Read-only file system\n",
    );
    expect(existsSync("/etc/bunker-escape")).toBe(false);
    expect(existsSync("/usr/bin/bunker-escape")).toBe(false);
  });

  // Depends on run-as: as root inside, the copy would be a setuid-root shell on the host (see the controls).
  test("a setuid shell planted in the workspace belongs to the command's uid (nobody) on the host, and gains nothing inside", async () => {
    const run = await client.exec({ id: "setuid", cmd: "cp /bin/sh suid-sh && chmod 4755 suid-sh && ./suid-sh -c 'id -u; id -g'" });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stdout).toBe(`${COMMAND_UID}\n${COMMAND_GID}\n`);
    const planted = statSync(join(client.hello.workspace, "suid-sh"));
    expect({ uid: planted.uid, gid: planted.gid, mode: planted.mode & 0o7777 }).toEqual({ uid: COMMAND_UID, gid: COMMAND_GID, mode: 0o4755 });
  });

  test("a device node cannot be made", async () => {
    const run = await client.exec({ id: "mknod", argv: ["mknod", "disk", "b", "8", "0"] });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stderr).toMatch(/^\S*mknod: disk: Operation not permitted\n$/);
    expect(existsSync(join(client.hello.workspace, "disk"))).toBe(false);
  });
});
