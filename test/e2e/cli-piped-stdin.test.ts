// `bunker exec` with a large file piped in, as in `tar -c src | bunker exec -- tar -x`: what
// `kubectl exec -i` and `docker exec -i` deliver whole, whatever the speed of the remote reader.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { BUN, REPO_ROOT, startServer } from "../helpers/server-process.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

const MAIN = join(REPO_ROOT, "src", "main.ts");

// Once the CLI stopped at the first refused write and never sent end of file: the command waited forever.
test("piped stdin larger than the server's 8 MiB reaches a command that reads it late, end of file included", async () => {
  const input = new Uint8Array(30_000_000);
  const proc = Bun.spawn([BUN, MAIN, "exec", "--timeout-ms", "20000", "--", "sh", "-c", "sleep 2; wc -c"], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root", BUNKER_URL: server.url, BUNKER_TOKEN: server.token! },
    stdin: new Blob([input]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: "30000000\n", stderr: "" });
}, 40_000);
