/** session.run: a command to its end, its exit with its output as text (E2B's commands.run). */
import { expect, test } from "bun:test";
import { BunkerError } from "../../src/client/index.ts";
import { useSharedSession } from "../helpers/shared-session.ts";

const shared = useSharedSession();

test("gives the exit with stdout and stderr, a failing command included", async () => {
  const result = await shared.session.run("echo out; echo err >&2; exit 3");
  expect(result).toMatchObject({ code: 3, signal: null, reason: "exited", stdout: "out\n", stderr: "err\n" });
  expect(result.durationMs).toBeGreaterThanOrEqual(0);
});

test("writes input to stdin and ends it", async () => {
  expect((await shared.session.run(["wc", "-c"], { input: "abc" })).stdout.trim()).toBe("3");
  expect((await shared.session.run(["cat"], { input: new Uint8Array([104, 105]) })).stdout).toBe("hi");
  // Without input the command's stdin is closed, so a reader of it ends at once.
  expect((await shared.session.run(["cat"])).stdout).toBe("");
});

test("a command that ends before it has read all of its input is a result, not a rejection", async () => {
  // More than the 8 MiB of stdin a server holds for a command that does not read: the rest cannot
  // be sent before the exit, and the writes that wait for room fail with invalid_state then.
  const input = new Uint8Array(12 * 1024 * 1024).fill(120);
  expect(await shared.session.run(["head", "-c", "2"], { input })).toMatchObject({ code: 0, signal: null, reason: "exited", stdout: "xx", stderr: "" });
  expect(await shared.session.run(["true"], { input })).toMatchObject({ code: 0, reason: "exited", stdout: "" });
});

test("a timeout is a result, and options pass through", async () => {
  expect(await shared.session.run(["sleep", "5"], { timeoutMs: 200 })).toMatchObject({ reason: "timeout", signal: "SIGTERM", stdout: "" });
  await shared.session.files.write("sub/x.txt", "x");
  expect((await shared.session.run("ls; echo $GREETING", { cwd: "sub", env: { GREETING: "hi" } })).stdout).toBe("x.txt\nhi\n");
});

test("rejects with the server's refusal", async () => {
  const refused = await shared.session.run("true", { cwd: "../elsewhere" }).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(BunkerError);
  expect((refused as BunkerError).code).toBe("path_outside_workspace");
});
