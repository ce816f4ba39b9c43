// Stdin through the client library when the handle is not the exec's only writer, or not its first:
// two sockets of one session writing one exec at once, and a program that reconnects mid-stream and
// goes on writing. Real server, real sockets, a real command that reads late.
import { expect, test } from "bun:test";
import { connect } from "../../src/client/index.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { useSharedServer } from "../helpers/shared-server.ts";
import { connectTapped, stdinSent, type WireTap } from "../helpers/tapped-websocket.ts";
import { patternedBytes } from "../helpers/patterned-bytes.ts";
import { sha256Hex } from "../helpers/sha256.ts";

const MiB = 1024 * 1024;
const shared = useSharedServer();


/** The `error` messages a tapped socket received: a refused stdin message would be one. */
const errorsOn = (tap: WireTap) => tap.received.filter((message) => message["type"] === "error");

// With acknowledgements only, the handle that started the exec counted on all 8 MiB and the one that
// attached sent 2 MiB before its first ack: together past the bound, and a piece was refused.
test.skipIf(noBwrap)("two sockets of one session write 12 MiB each into one exec at once, and every byte of both arrives", async () => {
  const { session: first, tap: firstTap } = await connectTapped(shared.server);
  expect((await first.exec(["mkfifo", "gate"]).exited).code).toBe(0);
  // Whose byte is whose is told by its top bit: the first writer's are below 128, the second's above.
  const script = "read _ < gate; cat > /tmp/all; LC_ALL=C tr -d '\\200-\\377' < /tmp/all | sha256sum; LC_ALL=C tr -d '\\000-\\177' < /tmp/all | sha256sum";
  const starter = first.exec(["sh", "-c", script], { id: "both", stdin: true, timeoutMs: 60_000 });
  await starter.started;
  const { session: second, tap: secondTap } = await connectTapped(shared.server, { resume: first.resume });
  const attached = second.attach("both");
  const low = patternedBytes(12 * MiB, 1).map((byte) => byte & 0x7f);
  const high = patternedBytes(12 * MiB, 2).map((byte) => byte | 0x80);
  const writes = Promise.all([starter.write(low), attached.write(high)]);
  // The command reads nothing yet: both send what their credit allows, then wait.
  await Promise.all([stdinSent(firstTap, "both", MiB), stdinSent(secondTap, "both", MiB)]);
  expect((await first.exec(["sh", "-c", "echo go > gate"]).exited).code).toBe(0);
  await writes;
  // Sockets have no order between them: the second one's last pieces must be in before the end of file.
  await second.list();
  await starter.end();
  expect({ stdout: await starter.stdout.readAllText(), exit: (await starter.exited).code }).toEqual({ stdout: `${sha256Hex(low)}  -\n${sha256Hex(high)}  -\n`, exit: 0 });
  expect({ first: errorsOn(firstTap), second: errorsOn(secondTap), handles: [...starter.errors, ...attached.errors] }).toEqual({ first: [], second: [], handles: [] });
  await second.disconnect();
  await first.close();
}, 60_000);

// A program that dropped its socket with 7.5 MiB still unread, resumed, and wrote on: it did not
// know what its old socket had left in the server, sent 2 MiB, and lost a piece to limit_exceeded.
test.skipIf(noBwrap)("a program that reconnects mid-stream resumes the session and goes on writing: every byte arrives once, in order", async () => {
  const before = await connect(shared.server.url, { token: shared.server.token! });
  expect((await before.exec(["mkfifo", "gate"]).exited).code).toBe(0);
  const handle = before.exec(["sh", "-c", "read _ < gate; sha256sum"], { id: "resumed", stdin: true, timeoutMs: 60_000 });
  const head = patternedBytes(7.5 * MiB, 3);
  await handle.write(head);
  // A close sends what the socket holds first: all of `head` reaches the server.
  await before.disconnect();

  const { session: after, tap } = await connectTapped(shared.server, { resume: before.resume });
  const resumed = after.attach("resumed");
  const tail = patternedBytes(12 * MiB, 4);
  const written = resumed.end(tail);
  // The new socket's first credit is exactly the room the old one left: 8 MiB less 7.5 waiting.
  const first = await tap.until("received", (message) => message["type"] === "stdin.ack" || message["type"] === "error");
  expect(first).toEqual({ type: "stdin.ack", id: "resumed", offset: 0, limit: 0.5 * MiB, received: 0 });
  await stdinSent(tap, "resumed", 0.5 * MiB);
  expect((await after.exec(["sh", "-c", "echo go > gate"]).exited).code).toBe(0);
  await written;
  const whole = new Uint8Array(head.byteLength + tail.byteLength);
  whole.set(head);
  whole.set(tail, head.byteLength);
  expect({ stdout: await resumed.stdout.readAllText(), exit: (await resumed.exited).code, errors: errorsOn(tap) }).toEqual({ stdout: `${sha256Hex(whole)}  -\n`, exit: 0, errors: [] });
  await after.close();
}, 60_000);

// The server answers `credit: true` with invalid_state when the exec takes no stdin; the write waited
// for an answer that never came, until the command exited (30 s here).
test.skipIf(noBwrap)("a write through an attached handle fails at once with invalid_state when the exec takes no stdin, or another writer ended it", async () => {
  const { session: first } = await connectTapped(shared.server);
  const noStdin = first.exec(["sleep", "30"], { id: "no-stdin" });
  const ended = first.exec(["sleep", "30"], { id: "ended", stdin: true });
  await Promise.all([noStdin.started, ended.started]);
  await ended.end();
  const { session: second } = await connectTapped(shared.server, { resume: first.resume });
  for (const id of ["no-stdin", "ended"]) {
    const attached = second.attach(id);
    const failure = await attached.write("x").then(
      () => "written",
      (error: unknown) => (error as { code?: string }).code,
    );
    expect({ id, failure }).toEqual({ id, failure: "invalid_state" });
  }
  await second.disconnect();
  await first.close();
});
