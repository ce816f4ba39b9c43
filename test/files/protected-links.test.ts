/**
 * Commands cannot change a protected path (.git/config, .git/hooks) but can link to one; a
 * client's write, upload or move through such a link must not land there, for git on the host
 * runs what that config or hook says (found by a security review). Naming the protected path
 * itself is the client's own choice.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { useSharedServer } from "../helpers/shared-server.ts";

const CONFIG = "[core]\n\tbare = false\n";
const PAYLOAD = "[core]\n\tfsmonitor = touch /tmp/pwned-by-bunker-test\n";

describe.skipIf(noBwrap)("links a command makes into protected paths", () => {
  const shared = useSharedServer({ args: ["--sandbox", "bwrap"] });
  beforeAll(async () => {
    const { client } = shared;
    // The repository appears in one exec (the protection covers what exists when an exec starts),
    // the links in the next, where .git/config and .git/hooks are read-only and only linked to.
    expect((await client.exec({ id: "repo", cmd: `mkdir -p .git/hooks && printf '${CONFIG.replace(/\t/g, "\\t").replace(/\n/g, "\\n")}' > .git/config` })).exit.code).toBe(0);
    const links = await client.exec({ id: "links", cmd: `ln -s .git/config notes.txt && ln -s .git/hooks docs && ln -s .git gitdir && ln -s . here && printf 'x' > payload && echo ok >> .git/config` });
    expect(links.stdout).toBe("");
    expect(links.stderr).toContain("Read-only file system");
  });

  const reply = async (message: Record<string, unknown> & { id: string }) => {
    shared.client.send(message);
    return shared.client.next((m: ServerMessage) => "id" in m && m.id === message.id);
  };
  const config = () => readFileSync(join(shared.client.hello.workspace, ".git", "config"), "utf8");
  const hook = () => readFileSync(join(shared.client.hello.workspace, ".git", "hooks", "pre-commit"), "utf8");

  test("file.write through a link to .git/config is refused, and the config is as it was", async () => {
    expect(await reply({ type: "file.write", id: "w1", path: "notes.txt", data: PAYLOAD })).toMatchObject({ type: "error", code: "forbidden_by_policy" });
    expect(config()).toBe(CONFIG);
  });

  test("file.write and file.move through a directory link into .git/hooks are refused", async () => {
    expect(await reply({ type: "file.write", id: "w2", path: "docs/pre-commit", data: "#!/bin/sh\ntouch /tmp/pwned\n", mode: 0o755 })).toMatchObject({ code: "forbidden_by_policy" });
    expect(await reply({ type: "file.move", id: "m1", from: "payload", to: "docs/pre-commit" })).toMatchObject({ code: "forbidden_by_policy" });
    expect(() => hook()).toThrow();
  });

  test("an HTTP PUT through the link is refused with 403", async () => {
    const response = await fetch(`${shared.server.url.replace(/^ws/, "http").replace(/\/ws$/, "")}/files/notes.txt?session=${shared.client.hello.session}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${shared.server.token}` },
      body: PAYLOAD,
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-bunker-error")).toBe("forbidden_by_policy");
    expect(config()).toBe(CONFIG);
  });

  test("file.remove, file.move and file.mkdir through a link at, into or above a protected path are refused, and the paths stay", async () => {
    // Gone, a protected path is no longer protected: the next command could write a config of its own there.
    const refusals = [
      { type: "file.remove", id: "r1", path: "gitdir/config" },
      { type: "file.remove", id: "r2", path: "gitdir/hooks", recursive: true },
      { type: "file.remove", id: "r3", path: "here/.git", recursive: true },
      { type: "file.move", id: "m2", from: "gitdir/config", to: "config.away" },
      { type: "file.move", id: "m3", from: "here/.git", to: "git.away" },
      { type: "file.mkdir", id: "d1", path: "docs/sub" },
    ];
    for (const message of refusals) expect(await reply(message)).toMatchObject({ type: "error", id: message.id, code: "forbidden_by_policy" });
    expect(config()).toBe(CONFIG);
    expect(readdirSync(join(shared.client.hello.workspace, ".git", "hooks"))).toEqual([]);
    // The links themselves are the client's to remove.
    expect(await reply({ type: "file.remove", id: "r4", path: "here" })).toMatchObject({ type: "file.remove.result" });
  });

  test("an append never lands in .git/config while a command keeps swapping the file for a link to it", async () => {
    // The append used to check one walk and open the file by another: a swap in between went through.
    shared.client.send({ type: "exec", id: "swapper", cmd: `echo > swapped; echo ready; while :; do ln -sfn .git/config l && mv -T l swapped; echo > f && mv -T f swapped; done` });
    await shared.client.next((m: ServerMessage) => m.type === "output" && m.id === "swapper");
    try {
      const outcomes = new Set<string>();
      for (let attempt = 0; attempt < 2000 && !config().includes("appended"); attempt++) {
        const answer = await reply({ type: "file.write", id: `a${attempt}`, path: "swapped", data: `appended ${attempt}\n`, ifExists: "append" });
        outcomes.add(answer.type === "error" ? answer.code : answer.type);
      }
      expect(config()).toBe(CONFIG);
      // Both ways were taken: some appends went to the file, others were refused at the link.
      expect(outcomes).toContain("file.write.result");
      expect(outcomes).toContain("forbidden_by_policy");
    } finally {
      shared.client.send({ type: "signal", id: "swapper", signal: "SIGKILL" });
      await shared.client.next((m: ServerMessage) => m.type === "exit" && m.id === "swapper");
    }
  }, 60_000);

  test("file.write through a link into .git/worktrees is refused: a linked worktree's commondir is a redirect", async () => {
    const made = await shared.client.exec({ id: "worktree-link", cmd: "mkdir -p .git/worktrees/wt && ln -s .git/worktrees/wt wt-meta" });
    expect(made.exit.code).toBe(0);
    expect(await reply({ type: "file.write", id: "w3", path: "wt-meta/commondir", data: "../../../evil\n" })).toMatchObject({ type: "error", code: "forbidden_by_policy" });
    expect(readdirSync(join(shared.client.hello.workspace, ".git", "worktrees", "wt"))).toEqual([]);
  });

  test("the client may still write the protected path by its own name", async () => {
    expect(await reply({ type: "file.write", id: "w3", path: ".git/config", data: `${CONFIG}\tlogallrefupdates = true\n` })).toMatchObject({ type: "file.write.result" });
    expect(config()).toContain("logallrefupdates");
  });
});
