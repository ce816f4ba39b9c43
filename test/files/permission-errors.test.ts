import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { BUN, REPO_ROOT, startServer, type TestServer } from "../helpers/server-process.ts";
import { bearer, fileUrl, request } from "./helpers/real-session.ts";

/** A uid of nobody in particular: the server runs as it, as bunker does on a developer's machine (no --run-as). */
const SERVER_UID = 4242;
const canDropToUid = process.getuid?.() === 0 && existsSync("/usr/bin/setpriv");

let server: TestServer | undefined;
let workspaceRoot: string;
beforeAll(async () => {
  if (!canDropToUid) return;
  workspaceRoot = mkdtempSync(join(tmpdir(), "bunker-perm-"));
  chownSync(workspaceRoot, SERVER_UID, SERVER_UID);
  server = await startServer({
    command: ["/usr/bin/setpriv", "--reuid", String(SERVER_UID), "--regid", String(SERVER_UID), "--clear-groups", BUN, join(REPO_ROOT, "src", "main.ts")],
    env: { HOME: workspaceRoot },
    workspaceRoot,
    args: ["--sandbox", "none"],
  });
});
afterAll(async () => {
  await server?.[Symbol.asyncDispose]();
  if (workspaceRoot) rmSync(workspaceRoot, { recursive: true, force: true });
});

// A file or directory the server may not open (EACCES, EPERM; a command ran `chmod 000`, say) was
// once `internal` ("the server failed in a way that is its own fault") and 500 over HTTP.
test("a file the server may not read or write is permission_denied, over the socket and as 403 over HTTP", async () => {
  if (!server) throw new Error("needs root and setpriv to run the server as another uid");
  await using client = await connect(server);
  await request(client, { type: "file.write", id: "w", path: "secret.txt", data: "s" });
  await request(client, { type: "file.mkdir", id: "m", path: "locked" });
  mkdirSync(join(client.hello.workspace, "locked", "inner"));
  chmodSync(join(client.hello.workspace, "secret.txt"), 0o000);
  chmodSync(join(client.hello.workspace, "locked"), 0o000);
  for (const [id, message] of [
    ["read", { type: "file.read", path: "secret.txt" }],
    ["list", { type: "file.list", path: "locked" }],
    ["write", { type: "file.write", path: "locked/new.txt", data: "x" }],
  ] as const) {
    expect({ id, reply: await request(client, { ...message, id }) }).toMatchObject({ id, reply: { type: "error", code: "permission_denied" } });
  }
  const get = await fetch(fileUrl(server, client, "secret.txt"), { headers: bearer(server) });
  expect(get.status).toBe(403);
  expect(get.headers.get("x-bunker-error")).toBe("permission_denied");
});
