// Large stdin through the client library against a real server: what an agent piping a file into a
// command sees when the command reads late, stops reading, or exits first.
import { afterAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { connect } from "../../src/client/index.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { startServer } from "../helpers/server-process.ts";
import { patternedBytes } from "../helpers/patterned-bytes.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());
const session = await connect(server.url, { token: server.token! });
afterAll(() => session.close());

test.skipIf(noBwrap)("a write to a command that has exited stops and rejects with invalid_state instead of sending the rest", async () => {
  // `head -c 1` exits after one byte. Before the fix, the write loop ran in microtasks only, so the
  // exit reached the handle after all 32 MiB had been encoded and sent (about 7 s for 50 MB), and
  // end() resolved as if the command had taken them.
  const handle = session.exec(["head", "-c", "1"], { stdin: true });
  let exitedFirst = false;
  const exited = handle.exited.then((exit) => {
    exitedFirst = true;
    return exit;
  });
  const ended = handle.end(patternedBytes(32 * 1024 * 1024)).then(
    () => ({ code: "resolved", exitedFirst }),
    (error: { code: string }) => ({ code: error.code, exitedFirst }),
  );
  expect(await ended).toEqual({ code: "invalid_state", exitedFirst: true });
  expect(await exited).toMatchObject({ code: 0, reason: "exited" });
  expect(await handle.stdout.readAll()).toEqual(patternedBytes(1));
}, 30_000);

// The server holds at most 8 MiB of unread stdin; the client keeps below it by `stdin.ack`, so a
// command that reads late still gets every byte (30 MB once gave 60 refusals and a wrong digest).
test.skipIf(noBwrap)("every byte written reaches a command that starts reading late, in order, then end of file", async () => {
  const input = patternedBytes(24 * 1024 * 1024);
  const handle = session.exec(["sh", "-c", "sleep 1; sha256sum"], { stdin: true, timeoutMs: 20_000 });
  const [ended, stdout, exit] = await Promise.all([handle.end(input).then(() => "resolved", (error: { code: string }) => error.code), handle.stdout.readAllText(), handle.exited]);
  expect({ ended, stdout, exit: { code: exit.code, reason: exit.reason }, errors: handle.errors.map((error) => error.code) }).toEqual({
    ended: "resolved",
    stdout: `${createHash("sha256").update(input).digest("hex")}  -\n`,
    exit: { code: 0, reason: "exited" },
    errors: [],
  });
}, 30_000);
