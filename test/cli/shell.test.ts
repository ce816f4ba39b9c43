// `bunker shell` without a local terminal: the login shell reads stdin as its script, or with -tt
// has it typed into a remote terminal.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { BUN, REPO_ROOT, startServer } from "../helpers/server-process.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

const MAIN = join(REPO_ROOT, "src", "main.ts");
const baseEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root", BUNKER_URL: server.url, BUNKER_TOKEN: server.token! };

/** `bunker shell ARGS` with `typed` piped to it; the output and the exit code. */
async function runShell(args: string[], typed: string) {
  const proc = Bun.spawn([BUN, MAIN, "shell", ...args], { env: baseEnv, stdin: new Blob([typed]), stdout: "pipe", stderr: "pipe" });
  const [code, stdout] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
  return { code, stdout };
}

test("the login shell sees SHELL set to itself, not the passwd entry's nologin (on a terminal: -tt)", async () => {
  // `printf` with the name split, so that the terminal's echo of the typed line never matches.
  const { code, stdout } = await runShell(["-tt"], `printf 'SH%s=%s\\n' ELL "$SHELL"; exit 4\n`);
  expect(code).toBe(4);
  const shell = /^SHELL=(.*?)\r?$/m.exec(stdout)?.[1];
  expect(shell).toMatch(/^\/\S+\/(bash|sh)$/);
  // It is the shell that runs: bash where there is one.
  expect(shell!.endsWith("/bash")).toBe(Bun.which("bash") !== null);
}, 30_000);

test("a SHELL given with -e is kept", async () => {
  expect(await runShell(["-e", "SHELL=/bin/custom"], `echo "SHELL=$SHELL"\n`)).toEqual({ code: 0, stdout: "SHELL=/bin/custom\n" });
}, 30_000);
