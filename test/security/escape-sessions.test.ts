// Escape suite: another session's workspace, and `cwd` (docs/SECURITY.md, "Escape suite").
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { connect, type TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startEscapeFixture, type EscapeFixture } from "./helpers/escape-fixture.ts";

const OTHER_SENTINEL = "other-session-data-6b0d";

describe.skipIf(noBwrap)("escape suite: other sessions", () => {
  let fixture: EscapeFixture;
  let client: TestClient;
  let other: TestClient;
  beforeAll(async () => {
    fixture = await startEscapeFixture();
    client = await fixture.connect();
    other = await fixture.connect();
    writeFileSync(join(other.hello.workspace, "private.txt"), `${OTHER_SENTINEL}\n`, { mode: 0o644 });
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  const refusal = (id: string, message: string) => ({ type: "error", id, code: "path_outside_workspace", message }) as const;

  /** Sends an exec that must be refused before it starts, and returns the refusal. */
  async function refusedExec(id: string, cwd: string) {
    client.send({ type: "exec", id, argv: ["cat", "private.txt"], cwd });
    return client.next((message) => "id" in message && message.id === id);
  }

  test("another session's file cannot be read by its absolute path", async () => {
    const path = join(other.hello.workspace, "private.txt");
    const run = await client.exec({ id: "read-other", argv: ["cat", path] });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(new RegExp(`^\\S*cat: ${path}: No such file or directory\\n$`));
  });

  test("another session's workspace cannot be written", async () => {
    const path = join(other.hello.workspace, "planted.txt");
    const run = await client.exec({ id: "write-other", cmd: `echo pwned > ${path}` });
    expect(run.exit).toMatchObject({ code: 2, reason: "exited" });
    expect(run.stderr).toBe(`/bin/sh: 1: cannot create ${path}: Directory nonexistent\n`);
    expect(readdirSync(other.hello.workspace)).toEqual(["private.txt"]);
  });

  test("cwd \"../<other workspace>\" is refused before anything runs", async () => {
    const cwd = `../${basename(other.hello.workspace)}`;
    expect(await refusedExec("cwd-dotdot", cwd)).toEqual(refusal("cwd-dotdot", `cwd: ${JSON.stringify(cwd)} is outside the workspace`));
  });

  test("cwd \"../x\" is refused even when x does not exist", async () => {
    expect(await refusedExec("cwd-missing", "../x")).toEqual(refusal("cwd-missing", 'cwd: "../x" is outside the workspace'));
  });

  test("cwd set to another session's workspace by absolute path is refused", async () => {
    expect(await refusedExec("cwd-absolute", other.hello.workspace)).toEqual(
      refusal("cwd-absolute", `cwd: ${JSON.stringify(other.hello.workspace)} is outside the workspace`),
    );
  });

  test("cwd through a symlink in the workspace that leads to another session's workspace is refused", async () => {
    const link = await client.exec({ id: "link", argv: ["ln", "-s", other.hello.workspace, "to-other"] });
    expect(link.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(await refusedExec("cwd-symlink", "to-other")).toEqual(refusal("cwd-symlink", 'cwd: "to-other" leads outside the workspace through a symlink'));
  });

  test("cwd through a symlink to / (here to-root/etc) is refused", async () => {
    const link = await client.exec({ id: "link-root", argv: ["ln", "-s", "/", "to-root"] });
    expect(link.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(await refusedExec("cwd-root", "to-root/etc")).toEqual(refusal("cwd-root", 'cwd: "to-root/etc" leads outside the workspace through a symlink'));
  });

  test("cwd through a symlink to a host path gets one answer whether the path exists or not", async () => {
    // The server runs as root and can see what commands cannot (the home is 0700): an answer that
    // depended on the target would tell a command, through its client, what exists on the host.
    const { home, sshKeyPath } = fixture;
    const links = { present: join(home, ".ssh"), absent: join(home, ".ssh-absent"), file: sshKeyPath, relative: "../../home/.ssh-absent" };
    const make = Object.entries(links)
      .map(([name, target]) => `ln -s '${target}' ${name}`)
      .join(" && ");
    const linked = await client.exec({ id: "oracle-links", cmd: `${make} && ln -s / root` });
    expect(linked.exit).toMatchObject({ code: 0, reason: "exited" });
    const cwds = [...Object.keys(links), "present/sub", "absent/sub", "root/etc", "root/no-such-dir-9c1", `root${home}/.ssh`];
    for (const [index, cwd] of cwds.entries()) {
      const id = `oracle-${index}`;
      expect(await refusedExec(id, cwd)).toEqual(refusal(id, `cwd: ${JSON.stringify(cwd)} leads outside the workspace through a symlink`));
    }
  });

  test("the file API refuses another session's workspace by absolute path", async () => {
    const path = join(other.hello.workspace, "private.txt");
    client.send({ type: "file.read", id: "file-other", path });
    expect(await client.next((message) => "id" in message && message.id === "file-other")).toEqual(
      refusal("file-other", `path: ${JSON.stringify(path)} is outside the workspace`),
    );
  });

  test("joining another session by its id without its resume secret is refused", async () => {
    const intruder = await connect(fixture.server, { query: { session: other.hello.session }, waitForHello: false });
    expect(await intruder.next()).toEqual({
      type: "error",
      code: "unknown_session",
      message: `no session ${JSON.stringify(other.hello.session)} to resume here with that secret: it ended, lives on another host, or the secret is wrong`,
    });
    expect(await intruder.closed).toMatchObject({ code: 4404 });
    expect(existsSync(join(other.hello.workspace, "private.txt"))).toBe(true);
  });
});
