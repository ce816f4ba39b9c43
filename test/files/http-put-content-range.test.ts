import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { useSharedServer } from "../helpers/shared-server.ts";
import { bearer, fileUrl } from "./helpers/real-session.ts";

const shared = useSharedServer();

test("a PUT with Content-Range is refused with 400 (RFC 9110 14.5) and the file keeps all its bytes", async () => {
  await using client = await connect(shared.server);
  const url = fileUrl(shared.server, client, "data/whole.bin");
  const whole = Buffer.alloc(3000, 7);
  expect((await fetch(url, { method: "PUT", body: whole, headers: bearer(shared.server) })).status).toBe(201);
  // A client resuming an upload the way some tools do: the tail only, with its place in Content-Range.
  const partial = await fetch(url, { method: "PUT", body: "TAIL", headers: { ...bearer(shared.server), "content-range": "bytes 2996-2999/3000" } });
  expect(partial.status).toBe(400);
  expect(partial.headers.get("x-bunker-error")).toBe("bad_message");
  expect(await partial.text()).toContain("Content-Range");
  expect(readFileSync(join(client.hello.workspace, "data/whole.bin"))).toEqual(whole);
});
