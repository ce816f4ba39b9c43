// Audit: `bunker exec` ended by the server (a timeout, the output cap) said nothing on stderr, so
// 143 looked like a kill from elsewhere and 137 with cut output like the OOM killer.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BUN, REPO_ROOT, startServer } from "../helpers/server-process.ts";
import { endingNotice } from "../../src/cli/exec.ts";

const server = await startServer({ args: ["--max-output-bytes", "1000"] });
afterAll(() => server[Symbol.asyncDispose]());

const MAIN = join(REPO_ROOT, "src", "main.ts");

async function runExec(args: string[]) {
  const proc = Bun.spawn([BUN, MAIN, "exec", ...args], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root", BUNKER_URL: server.url, BUNKER_TOKEN: server.token! },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

describe("bunker exec says why the server ended a command", () => {
  test("--timeout-ms: exits 143 and says the command timed out", async () => {
    const run = await runExec(["--timeout-ms", "200", "--", "sleep", "10"]);
    expect(run.code).toBe(143);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^bunker: the command timed out after \d+ ms \(--timeout-ms, or the server's limit\) and it was ended with SIGTERM\n$/);
  });

  test("the server's output cap: exits 137 with the output cut, and says the output reached the cap", async () => {
    // `yes` alone: it is still writing when the kill comes (`yes | head -c 5000` could end first).
    const run = await runExec(["--", "yes"]);
    expect(run.code).toBe(137);
    expect(run.stdout.length).toBe(1000);
    expect(run.stderr).toBe("bunker: the command's output reached the server's output limit (--max-output-bytes) and it was ended with SIGKILL; what it wrote after is not shown\n");
  });

  test("a command that ended on its own before the server's signal keeps its code, and the line says so", () => {
    const exit = { code: 0, signal: null, durationMs: 5 };
    expect(endingNotice({ ...exit, reason: "output_limit" })).toBe(
      "the command's output reached the server's output limit (--max-output-bytes) and it ended on its own first; what it wrote after is not shown",
    );
    expect(endingNotice({ ...exit, reason: "exited" })).toBeUndefined();
  });

  test("a command that timed out and exited with a code of its own exits 124, as timeout(1) does, never 0", async () => {
    expect(endingNotice({ code: 0, signal: null, durationMs: 5, reason: "timeout" })).toBe(
      "the command timed out after 5 ms (--timeout-ms, or the server's limit) and it exited with code 0 (at the server's SIGTERM, or just before it): exit status 124",
    );
    // A handler of SIGTERM that exits 0 (found by a review: the timed-out command exited 0 here).
    const run = await runExec(["--timeout-ms", "300", "--", "sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done"]);
    expect(run.code).toBe(124);
    expect(run.stdout).toBe("ready\n");
    // After the sandbox's sh saying its sleep was Terminated (the whole tree gets the SIGTERM).
    expect(run.stderr).toMatch(/\nbunker: the command timed out after \d+ ms \(--timeout-ms, or the server's limit\) and it exited with code 0 \(at the server's SIGTERM, or just before it\): exit status 124\n$/);
  });

  test("a command that ends by a signal of its own gets no such line", async () => {
    expect(await runExec(["--", "sh", "-c", "kill -TERM $$"])).toEqual({ code: 143, stdout: "", stderr: "" });
  });
});
