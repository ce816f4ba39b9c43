// Exit codes of commands that cannot be executed, as shells, `docker exec` and `kubectl exec`
// report them: 127 when there is no such file, 126 when it exists but cannot be executed.
import { afterAll, expect, test } from "bun:test";
import { connect } from "../../src/client/index.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startServer } from "../helpers/server-process.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());
const session = await connect(server.url, { token: server.token! });
afterAll(() => session.close());

async function exitOf(argv: string[]) {
  const handle = session.exec(argv);
  const exit = await handle.exited;
  return { code: exit.code, reason: exit.reason, errors: handle.errors.map((error) => error.code) };
}

test.skipIf(noBwrap)("a path that does not exist exits 127 with spawn_failed", async () => {
  expect(await exitOf(["/no/such/program"])).toEqual({ code: 127, reason: "exited", errors: ["spawn_failed"] });
});

test.skipIf(noBwrap)("a file that exists but cannot be executed exits 126, as in docker exec and kubectl exec", async () => {
  expect(await exitOf(["/etc/passwd"])).toEqual({ code: 126, reason: "exited", errors: ["spawn_failed"] });
  expect(await exitOf(["/etc"])).toEqual({ code: 126, reason: "exited", errors: ["spawn_failed"] });
});
