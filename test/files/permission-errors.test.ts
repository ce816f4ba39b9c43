import { expect, test } from "bun:test";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { useServerAsUser } from "../helpers/server-as-user.ts";
import { bearer, fileUrl, request } from "./helpers/real-session.ts";

const shared = useServerAsUser(["--sandbox", "none"]);

// A file or directory the server may not open (EACCES, EPERM; a command ran `chmod 000`, say) was
// once `internal` ("the server failed in a way that is its own fault") and 500 over HTTP.
test("a file the server may not read or write is permission_denied, over the socket and as 403 over HTTP", async () => {
  const { server } = shared;
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
