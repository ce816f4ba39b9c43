// examples/python/bunker_session.py, the Python client the docs point agents to, run as it is
// against a real server with bwrap: every line it prints is what the protocol promises.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { execa } from "execa";
import { startServer } from "../helpers/server-process.ts";

const SCRIPT = join(import.meta.dir, "..", "..", "examples", "python", "bunker_session.py");
const EDGES = join(import.meta.dir, "python_client_edges.py");
/** Debian's python3, where python3-websockets installs (CI installs it); not a version manager's shim. */
const PYTHON = "/usr/bin/python3";

const probe = await execa(PYTHON, ["-c", "import websockets"], { reject: false });
const missing = probe.exitCode === 0 ? undefined : `${PYTHON} with the websockets package (apt-get install python3-websockets): ${probe.stderr.split("\n").at(-1) ?? probe.message}`;
if (missing && process.env["REQUIRE_SANDBOX"] === "1") throw new Error(`REQUIRE_SANDBOX=1 but no ${missing}`);
if (missing) console.warn(`skipping the Python example: no ${missing}`);

const server = missing ? undefined : await startServer();
afterAll(() => server?.[Symbol.asyncDispose]());

/** Runs a Python script against the server, as a user would: the URL as its argument, the token in the environment. */
function runPython(script: string) {
  return execa(PYTHON, [script, server!.url], { env: { BUNKER_TOKEN: server!.token!, PYTHONDONTWRITEBYTECODE: "1" }, extendEnv: false, reject: false, timeout: 60_000 });
}

test.skipIf(missing !== undefined)("the Python example runs commands, stdin, a persistent shell, a timeout and a refusal over one socket", async () => {
  const run = await runPython(SCRIPT);
  expect({ code: run.exitCode, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
  const lines = run.stdout.split("\n");
  expect(lines[0]).toMatch(/^session \S+ sandbox bwrap$/);
  expect(lines.slice(1)).toEqual([
    `2 'hello from 65534\\n' "ls: cannot access '/nonexistent': No such file or directory\\n"`,
    "lines: 3",
    "gathered: ['1', '2', '3']",
    "shell: hi from src cwd ends with src: True",
    "timeout: timeout SIGTERM",
    "refused: path_outside_workspace",
    "streamed in pieces: True ['tick', '1', 'tick', '2', 'tick', '3']",
  ]);
});

test.skipIf(missing !== undefined)("the Python example sends stdin past a frame in pieces, keeps one run's failing callback to that run, and refuses options it manages", async () => {
  const run = await runPython(EDGES);
  expect({ code: run.exitCode, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
  expect(run.stdout.split("\n")).toEqual([
    "big stdin: 3145728",
    "non-ascii stdin: 400000",
    "callback raised: ValueError('callback failed') | other: still here",
    "managed option: run() sets ['id'] itself",
    "after close: connection_closed",
  ]);
});
