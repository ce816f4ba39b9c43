/**
 * Commands cannot change a protected path (.git/config, .git/hooks) but can link to one; a
 * client's write, upload or move through such a link must not land there, for git on the host
 * runs what that config or hook says (found by a security review). Naming the protected path
 * itself is the client's own choice.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";

const CONFIG = "[core]\n\tbare = false\n";
const PAYLOAD = "[core]\n\tfsmonitor = touch /tmp/pwned-by-bunker-test\n";

describe.skipIf(noBwrap)("links a command makes into protected paths", () => {
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    server = await startServer({ args: ["--sandbox", "bwrap"] });
    client = await connect(server);
    // The repository appears in one exec (the protection covers what exists when an exec starts),
    // the links in the next, where .git/config and .git/hooks are read-only and only linked to.
    expect((await client.exec({ id: "repo", cmd: `mkdir -p .git/hooks && printf '${CONFIG.replace(/\t/g, "\\t").replace(/\n/g, "\\n")}' > .git/config` })).exit.code).toBe(0);
    const links = await client.exec({ id: "links", cmd: `ln -s .git/config notes.txt && ln -s .git/hooks docs && printf 'x' > payload && echo ok >> .git/config` });
    expect(links.stdout).toBe("");
    expect(links.stderr).toContain("Read-only file system");
  });
  afterAll(async () => {
    await client?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
  });

  const reply = async (message: Record<string, unknown> & { id: string }) => {
    client.send(message);
    return client.next((m: ServerMessage) => "id" in m && m.id === message.id);
  };
  const config = () => readFileSync(join(client.hello.workspace, ".git", "config"), "utf8");
  const hook = () => readFileSync(join(client.hello.workspace, ".git", "hooks", "pre-commit"), "utf8");

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
    const response = await fetch(`${server.url.replace(/^ws/, "http").replace(/\/ws$/, "")}/files/notes.txt?session=${client.hello.session}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${server.token}` },
      body: PAYLOAD,
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("x-bunker-error")).toBe("forbidden_by_policy");
    expect(config()).toBe(CONFIG);
  });

  test("the client may still write the protected path by its own name", async () => {
    expect(await reply({ type: "file.write", id: "w3", path: ".git/config", data: `${CONFIG}\tlogallrefupdates = true\n` })).toMatchObject({ type: "file.write.result" });
    expect(config()).toContain("logallrefupdates");
  });
});
