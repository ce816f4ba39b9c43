import { expect, test } from "bun:test";
import { healthzResponse } from "../../src/server/healthz.ts";
import { startServer } from "../helpers/server-process.ts";
import { connect } from "../helpers/client.ts";

test("GET /healthz answers 200 without a token: ok, the host id and the sandbox backend", async () => {
  await using server = await startServer({ args: ["--host-id", "bunker-7"] });
  await using client = await connect(server);
  const response = await fetch(`http://127.0.0.1:${server.port}/healthz`);
  expect({ status: response.status, type: response.headers.get("content-type"), cache: response.headers.get("cache-control"), body: await response.json() }).toEqual({
    status: 200,
    type: "application/json;charset=utf-8",
    cache: "no-store",
    body: { ok: true, host: "bunker-7", sandbox: client.hello.sandbox.backend },
  });
  const post = await fetch(`http://127.0.0.1:${server.port}/healthz`, { method: "POST" });
  expect({ status: post.status, allow: post.headers.get("allow") }).toEqual({ status: 405, allow: "GET, HEAD" });
});

test("while the server shuts down /healthz says 503 and ok: false, so a balancer stops sending clients", async () => {
  const response = healthzResponse(new Request("http://x/healthz"), { stopping: true, host: "bunker-7", sandbox: "bwrap" });
  expect({ status: response.status, body: await response.json() }).toEqual({ status: 503, body: { ok: false, host: "bunker-7", sandbox: "bwrap" } });
});
