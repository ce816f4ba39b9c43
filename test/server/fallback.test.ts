import { expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { makeWorkspaceRoot, startServer } from "../helpers/server-process.ts";
import { connect } from "../helpers/client.ts";

test("with --sandbox none, hello says so and commands run in the workspace with a clean environment", async () => {
  await using server = await startServer({ args: ["--sandbox", "none"], env: { BUNKER_TEST_SECRET: "fallback-secret-1234" } });
  await using client = await connect(server);
  expect(client.hello.sandbox).toMatchObject({ backend: "none", reason: "chosen with --sandbox none" });
  expect(client.hello.sandbox.notEnforced?.length).toBeGreaterThan(0);
  expect(server.stderr()).toContain("WARNING: commands run WITHOUT a sandbox");

  const pwd = await client.exec({ id: "pwd", argv: ["pwd"] });
  expect(pwd.stdout).toBe(`${client.hello.workspace}\n`);
  const env = await client.exec({ id: "env", argv: ["env"] });
  expect(env.stdout).not.toContain("fallback-secret-1234");
  expect(env.stdout).toContain(`HOME=${client.hello.workspace}\n`);
  expect(env.stdout).toContain(`TMPDIR=${client.hello.workspace}/.tmp\n`);

  // hello says commands have the network here, so network: true restates the policy and runs.
  expect(client.hello.sandbox.network).toBe(true);
  expect((await client.exec({ id: "net", argv: ["true"], network: true })).exit).toMatchObject({ code: 0, reason: "exited" });
});

test("with --sandbox none, a timeout still kills the whole process group", async () => {
  await using server = await startServer({ args: ["--sandbox", "none"] });
  await using client = await connect(server);
  const run = await client.exec({ id: "tree", cmd: "sleep 103 & sleep 103", timeoutMs: 300 });
  expect(run.exit.reason).toBe("timeout");
  const left = await client.exec({ id: "check", cmd: "pgrep -fx 'sleep 103' || true" });
  expect(left.stdout).toBe("");
});

/**
 * A workspace root of the test's own: on the default one, a bunker server left running on the
 * machine adds its "another bunker server" warning to the stderr these tests compare whole.
 */
const ownRootArgs = () => ["--workspace-root", makeWorkspaceRoot()];

test("--require-sandbox refuses --sandbox none: exit 2 with the reason", async () => {
  const proc = Bun.spawn([process.execPath, "src/main.ts", "serve", "--port", "0", "--no-auth", "--sandbox", "none", "--require-sandbox", ...ownRootArgs()], { stderr: "pipe" });
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toBe("bunker: sandbox: --require-sandbox refuses --sandbox none\n");
});

test("with --sandbox none, an escaped setsid daemon holding stdout does not hold back exit", async () => {
  await using server = await startServer({ args: ["--sandbox", "none"] });
  await using client = await connect(server);
  const run = await client.exec({ id: "daemon", cmd: "setsid sh -c 'sleep 3; echo late' & echo early" });
  expect(run.stdout).toBe("early\n");
  expect(run.exit.durationMs).toBeLessThan(2000);
  await client.exec({ id: "cleanup", cmd: "pkill -f 'sleep 3' || true" });
});

test("a forced backend that fails its probe refuses to start: exit 2 with the reason", async () => {
  const proc = Bun.spawn([process.execPath, "src/main.ts", "serve", "--port", "0", "--no-auth", "--sandbox", "seatbelt", ...ownRootArgs()], { stderr: "pipe" });
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toBe("bunker: sandbox: sandbox-exec exists only on macOS\n");
});

test("auto falls back to none when bwrap cannot run, with the reason in hello", async () => {
  // A PATH without bwrap stands in for a host where it is missing.
  await using server = await startServer({ env: { PATH: "/nonexistent" }, command: [process.execPath, "src/main.ts"] });
  await using client = await connect(server);
  expect(client.hello.sandbox).toMatchObject({ backend: "none", reason: "bwrap is not installed (apt-get install bubblewrap)" });
  expect(server.stderr()).toContain("WARNING: commands run WITHOUT a sandbox (bwrap is not installed");
});

test.each([
  ["on a terminal", { pty: { cols: 80, rows: 24 } }],
  ["on pipes", {}],
])("with --sandbox none, a signal sent right after started reaches the command %s, every time", async (_, how) => {
  await using server = await startServer({ args: ["--sandbox", "none"] });
  await using client = await connect(server);
  // Before the group was formed (a PTY's setsid) or the reaper had forked, 8 of 20 were lost.
  for (const [attempt, signal] of (["SIGTERM", "SIGINT", "SIGKILL", "SIGTERM", "SIGINT", "SIGKILL", "SIGTERM", "SIGINT", "SIGTERM", "SIGTERM"] as const).entries()) {
    const id = `early-${attempt}`;
    client.send({ type: "exec", id, argv: ["sleep", "30"], ...how });
    await client.next((message) => message.type === "started" && message.id === id);
    client.send({ type: "signal", id, signal });
    const run = await client.runToExit(id);
    expect(run.exit).toMatchObject({ signal, reason: "killed" });
  }
});

test("with --sandbox none, a Ctrl-C typed into a PTY exec before its command has the terminal still interrupts it", async () => {
  await using server = await startServer({ args: ["--sandbox", "none"] });
  await using client = await connect(server);
  for (let round = 0; round < 5; round++) {
    const id = `early-intr-${round}`;
    client.send({ type: "exec", id, argv: ["sleep", "30"], pty: { cols: 80, rows: 24 } });
    client.send({ type: "stdin", id, data: "\x03" });
    expect((await client.runToExit(id)).exit).toMatchObject({ code: null, signal: "SIGINT", reason: "signaled" });
  }
});

test("with --sandbox none, an exec after the workspace itself was removed fails saying so, and the server goes on", async () => {
  await using server = await startServer({ args: ["--sandbox", "none"] });
  await using client = await connect(server);
  // From outside (an operator, a cleanup job), or by the command itself when the server does not
  // run as root, so that its commands run as the workspace's owner.
  rmSync(client.hello.workspace, { recursive: true, force: true });
  client.send({ type: "exec", id: "after", argv: ["true"] });
  const error = await client.next((message) => message.type === "error" && message.id === "after");
  expect(error).toMatchObject({ code: "spawn_failed", message: `could not start "true": its working directory ${client.hello.workspace} no longer exists (was the workspace removed?)` });
  await using other = await connect(server);
  expect((await other.exec({ id: "ok", argv: ["true"] })).exit.code).toBe(0);
});
