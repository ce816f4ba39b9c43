// A reader that goes away (`bunker config | head -2`): every command that prints and ends exits 141
// without a word, as `bunker exec` does and as a process killed by SIGPIPE would.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { BUN, REPO_ROOT } from "../helpers/server-process.ts";

const MAIN = join(REPO_ROOT, "src", "main.ts");

/**
 * Runs `bunker ARGS` with stdout on a pipe whose reader has already exited, so that the first
 * write fails with EPIPE every time: bash waits for the process substitution before starting bunker.
 */
async function runIntoClosedPipe(args: string[]) {
  const line = `exec 3> >(true); wait $!; "$@" >&3; echo "status=$?"`;
  const proc = Bun.spawn(["bash", "-c", line, "bash", BUN, MAIN, ...args], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root", BUNKER_TOKEN: "abcdefghijklmnop1234" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr };
}

describe("a closed stdout ends a command quietly with 141", () => {
  const commands = [["config"], ["config", "--sources"], ["--version"], ["--help"], ["doctor", "--json"], ["serve", "--help"], ["exec", "--help"], ["shell", "--help"]];
  for (const args of commands) {
    test(`bunker ${args.join(" ")}`, async () => {
      const { stdout, stderr } = await runIntoClosedPipe(args);
      expect(stdout).toBe("status=141\n");
      // config says on stderr that it printed the token as <redacted>; nothing else is written there.
      expect(stderr.replace(/^bunker: token \(from BUNKER_TOKEN\) is printed as <redacted>.*\n/, "")).toBe("");
    });
  }
});
