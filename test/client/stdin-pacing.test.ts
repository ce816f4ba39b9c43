// Stdin pacing by `stdin.ack` in the client library when the writer is not the exec's only one, or
// when the write cannot finish: another socket of the session writing the same exec after earlier
// stdin, a drop while a write waits for room, and an exit while it waits.
import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { connect } from "../../src/client/index.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { useSharedServer } from "../helpers/shared-server.ts";
import { connectTapped, stdinSent } from "../helpers/tapped-websocket.ts";
import { patternedBytes } from "../helpers/patterned-bytes.ts";
import { settled } from "../helpers/settled.ts";

const MiB = 1024 * 1024;
const shared = useSharedServer();

// stdin.ack counts the exec's stdin from its first byte, whoever wrote it. A second writer that
// took the first ack it heard as its own progress counted 10 MiB of someone else's bytes as room,
// sent far past the server's 8 MiB bound, and lost bytes to limit_exceeded.
test.skipIf(noBwrap)("a second socket that writes an exec after 10 MiB of earlier stdin gets every byte through", async () => {
  const first = await connect(shared.server.url, { token: shared.server.token! });
  expect((await first.exec(["mkfifo", "gate"]).exited).code).toBe(0);
  const script = `head -c ${10 * MiB} > /dev/null; echo taken; read _ < gate; head -c ${24 * MiB} | sha256sum`;
  const starter = first.exec(["sh", "-c", script], { id: "paced", stdin: true, timeoutMs: 30_000 });
  await starter.write(patternedBytes(10 * MiB, 1));
  for await (const text of starter.stdout.text()) if (text.includes("taken")) break;

  const { session: second, tap } = await connectTapped(shared.server, { resume: first.resume });
  const writer = second.attach("paced");
  const input = patternedBytes(24 * MiB, 2);
  const ended = settled(writer.end(input));
  // The command reads nothing now: the writer sends what fits under the bound, then waits.
  await stdinSent(tap, "paced", MiB);
  expect((await first.exec(["sh", "-c", "echo go > gate"]).exited).code).toBe(0);
  const result = await ended;
  // Bytes refused are lost, and the command would wait for them until its timeout.
  if (!("value" in result)) writer.signal("SIGKILL");
  expect({ ended: result, stdout: await writer.stdout.readAllText(), errors: writer.errors.map((error) => error.code) }).toEqual({
    ended: { value: undefined },
    stdout: `taken\n${createHash("sha256").update(input).digest("hex")}  -\n`,
    errors: [],
  });
  await second.disconnect();
  await first.close();
}, 30_000);

test.skipIf(noBwrap)("a write waiting for room rejects with connection_closed when the socket drops", async () => {
  const { session, tap } = await connectTapped(shared.server);
  const handle = session.exec(["sleep", "20"], { id: "never-reads", stdin: true, timeoutMs: 20_000 });
  const writing = settled(handle.write(patternedBytes(20 * MiB)));
  await stdinSent(tap, "never-reads", 8 * MiB);
  await session.disconnect();
  expect(await writing).toEqual({ code: "connection_closed" });
});

test.skipIf(noBwrap)("a write waiting for room rejects with invalid_state when the exec exits meanwhile", async () => {
  const { session, tap } = await connectTapped(shared.server);
  const handle = session.exec(["sleep", "20"], { id: "exits", stdin: true, timeoutMs: 20_000 });
  const writing = settled(handle.write(patternedBytes(20 * MiB)));
  await stdinSent(tap, "exits", 8 * MiB);
  expect(handle.signal("SIGTERM")).toBe(true);
  expect(await writing).toEqual({ code: "invalid_state" });
  expect((await handle.exited).signal).toBe("SIGTERM");
  await session.close();
});
