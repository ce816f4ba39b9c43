/** session.run: a command to its end, its exit with its output as text (E2B's commands.run). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { BunkerError, connect, type Session } from "../../src/client/index.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";

let server: TestServer;
let session: Session;
beforeAll(async () => {
  server = await startServer();
  session = await connect(server.url, { token: server.token! });
});
afterAll(async () => {
  await session?.close();
  await server?.[Symbol.asyncDispose]();
});

test("gives the exit with stdout and stderr, a failing command included", async () => {
  const result = await session.run("echo out; echo err >&2; exit 3");
  expect(result).toMatchObject({ code: 3, signal: null, reason: "exited", stdout: "out\n", stderr: "err\n" });
  expect(result.durationMs).toBeGreaterThanOrEqual(0);
});

test("writes input to stdin and ends it", async () => {
  expect((await session.run(["wc", "-c"], { input: "abc" })).stdout.trim()).toBe("3");
  expect((await session.run(["cat"], { input: new Uint8Array([104, 105]) })).stdout).toBe("hi");
  // Without input the command's stdin is closed, so a reader of it ends at once.
  expect((await session.run(["cat"])).stdout).toBe("");
});

test("a command that ends before it has read all of its input is a result, not a rejection", async () => {
  // More than the 8 MiB of stdin a server holds for a command that does not read: the rest cannot
  // be sent before the exit, and the writes that wait for room fail with invalid_state then.
  const input = new Uint8Array(12 * 1024 * 1024).fill(120);
  expect(await session.run(["head", "-c", "2"], { input })).toMatchObject({ code: 0, signal: null, reason: "exited", stdout: "xx", stderr: "" });
  expect(await session.run(["true"], { input })).toMatchObject({ code: 0, reason: "exited", stdout: "" });
});

test("a timeout is a result, and options pass through", async () => {
  expect(await session.run(["sleep", "5"], { timeoutMs: 200 })).toMatchObject({ reason: "timeout", signal: "SIGTERM", stdout: "" });
  await session.files.write("sub/x.txt", "x");
  expect((await session.run("ls; echo $GREETING", { cwd: "sub", env: { GREETING: "hi" } })).stdout).toBe("x.txt\nhi\n");
});

test("rejects with the server's refusal", async () => {
  const refused = await session.run("true", { cwd: "../elsewhere" }).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(BunkerError);
  expect((refused as BunkerError).code).toBe("path_outside_workspace");
});
