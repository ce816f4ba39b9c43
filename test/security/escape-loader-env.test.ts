// Escape suite: the dynamic loader's variables in a request's env (docs/SECURITY.md, "Escape suite").
// bwrap is a dynamically linked program that runs on the host, outside every namespace, with the
// workspace as its working directory: were the request's env its own, LD_PRELOAD or LD_LIBRARY_PATH
// would load a library a command left in the workspace into bwrap, on the host.
import { describe, expect, test } from "bun:test";
import { buildEnvArgs } from "../../src/sandbox/bwrap.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { useSharedServer } from "../helpers/shared-server.ts";

describe.skipIf(noBwrap)("escape suite: loader variables in the request's env", () => {
  // Nothing of the escape fixture's host layout is needed: only a bwrap server and a client.
  const shared = useSharedServer({ args: ["--sandbox", "bwrap"] });

  test("LD_DEBUG reaches the command inside, and never bwrap on the host", async () => {
    // glibc writes one file per process that loads with LD_DEBUG set. bwrap links libselinux and
    // libcap; `true` and the reaper (no loader at all) do not: a file naming either came from bwrap.
    const output = `${shared.client.hello.workspace}/ld-debug`;
    const run = await shared.client.exec({ id: "debug", argv: ["true"], env: { LD_DEBUG: "libs", LD_DEBUG_OUTPUT: output } });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    const read = await shared.client.exec({ id: "read", cmd: "cat ld-debug.*" });
    expect(read.stdout).toContain("libc.so.6");
    expect(read.stdout).not.toContain("libselinux");
    expect(read.stdout).not.toContain("libcap");
  });

  test("LD_PRELOAD of a missing library troubles only the command, which the loader warns inside", async () => {
    // On the host the warning would come from bwrap before the sandbox exists; inside, the command
    // still runs (the loader ignores what it cannot preload) and says so once.
    const run = await shared.client.exec({ id: "preload", argv: ["true"], env: { LD_PRELOAD: "/nonexistent/evil.so", LD_LIBRARY_PATH: "/usr/local/lib:" } });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stderr.match(/cannot be preloaded/g) ?? []).toHaveLength(1);
  });

  test("a variable longer than execve takes is refused before the spawn, as spawn_failed", async () => {
    shared.client.send({ type: "exec", id: "huge", argv: ["true"], env: { HUGE: "x".repeat(200_000) } });
    const error = await shared.client.next((message) => message.type === "error" && message.id === "huge");
    expect(error).toMatchObject({ code: "spawn_failed" });
    expect((error as { message: string }).message).toContain("E2BIG");
  });

  test("a NUL can never split an argument of bwrap's --args (the protocol refuses it first)", () => {
    expect(() => buildEnvArgs({ A: "x\0--bind\0/\0/" })).toThrow(/NUL/);
    expect(() => buildEnvArgs({ "A\0B": "x" })).toThrow(/NUL/);
    expect(new TextDecoder().decode(buildEnvArgs({ A: "1", B: "two words" }))).toBe("--clearenv\0--setenv\0A\x001\0--setenv\0B\0two words\0");
  });
});
