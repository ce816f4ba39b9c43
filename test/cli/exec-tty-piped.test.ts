// `bunker exec -t` and `bunker shell` with a stdin that is not a terminal (a pipe, /dev/null): the
// command runs without one, so that the end of the input reaches it, unless -tt insists. Each
// test awaits bunker's exit: before, the command waited for more input forever, and the test's
// own timeout failed it.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { NO_TERMINAL_WARNING } from "../../src/cli/terminal-choice.ts";
import { BUN, REPO_ROOT, startServer } from "../helpers/server-process.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

const MAIN = join(REPO_ROOT, "src", "main.ts");
const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root", BUNKER_URL: server.url, BUNKER_TOKEN: server.token! };
const warned = `bunker: ${NO_TERMINAL_WARNING}\n`;

/** `bunker ARGS` with `input` piped to it (undefined: /dev/null); its status and output once it exits. */
async function run(args: string[], input: string | undefined) {
  const proc = Bun.spawn([BUN, MAIN, ...args], { env, stdin: input === undefined ? "ignore" : new Blob([input]), stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

test("printf hi | bunker exec -t -- cat: cat gets the end of its input (no newline before it) and ends", async () => {
  expect(await run(["exec", "-t", "--", "cat"], "hi")).toEqual({ code: 0, stdout: "hi", stderr: warned });
}, 15_000);

test("a script piped into bunker exec -t -- bash runs, and bash ends at its end with the last status", async () => {
  expect(await run(["exec", "-t", "--", "bash"], "echo $((6 * 7))\nfalse\n")).toEqual({ code: 1, stdout: "42\n", stderr: warned });
}, 15_000);

test("a script piped into bunker shell runs in the login shell, which ends at the script's end", async () => {
  expect(await run(["shell"], "echo $((6 * 7))\n")).toEqual({ code: 0, stdout: "42\n", stderr: warned });
}, 15_000);

test("-t with stdin /dev/null: no terminal either", async () => {
  expect(await run(["exec", "-t", "--", "sh", "-c", "test -t 0 || echo no-terminal"], undefined)).toEqual({ code: 0, stdout: "no-terminal\n", stderr: warned });
}, 15_000);

test("-tt insists: the command runs on a terminal with stdin piped, and nothing is said", async () => {
  expect(await run(["exec", "-tt", "--", "sh", "-c", "test -t 0 && echo on-a-terminal"], undefined)).toEqual({ code: 0, stdout: "on-a-terminal\r\n", stderr: "" });
}, 15_000);

test("-t --no-stdin keeps the terminal: nothing is forwarded, so no end of input is lost", async () => {
  expect(await run(["exec", "-t", "--no-stdin", "--", "sh", "-c", "test -t 0 && echo on-a-terminal"], "not for the command\n")).toEqual({ code: 0, stdout: "on-a-terminal\r\n", stderr: "" });
}, 15_000);
