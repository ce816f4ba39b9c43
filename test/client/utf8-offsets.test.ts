// Stream offsets of `encoding: "utf8"` execs whose output is not valid UTF-8: offsets count raw
// bytes, but a utf8 `output` message carries text, in which each invalid byte became U+FFFD (three
// bytes). The client then cannot know how many raw bytes its last chunk stood for.
import { afterAll, expect, test } from "bun:test";
import { connect } from "../../src/client/index.ts";
import { startServer } from "../helpers/server-process.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());
const proxy = await startTcpProxy(server.port);
afterAll(() => proxy[Symbol.asyncDispose]());

/** `\377a\n` over and over: one invalid byte in every three. */
const INVALID_UTF8_LINES = (bytes: number) => `yes "$(printf '\\377a')" | head -c ${bytes}`;

// A utf8 `output` message whose text is not the exact UTF-8 of its raw bytes says their count in `bytes`.
test("stream.offset counts the raw bytes of a utf8 exec whose output is not valid UTF-8", async () => {
  const session = await connect(server.url, { token: server.token! });
  const handle = session.exec(INVALID_UTF8_LINES(1200), { encoding: "utf8", id: "invalid" });
  await Promise.all([handle.stdout.readAll(), handle.exited]);
  const [info] = (await session.list()).filter((exec) => exec.id === "invalid");
  expect({ offset: handle.stdout.offset }).toEqual({ offset: info!.bytes.stdout });
  await session.close();
});

// An agent that resumes after a network drop from stream.offset: it was an overestimate, and the
// bytes in between were skipped without a gap (43,690 of 8,000,000 characters lost, measured).
test("a utf8 exec resumed from stream.offset after a network drop loses no byte and repeats none", async () => {
  const command = INVALID_UTF8_LINES(8_000_000);
  const reference = await connect(server.url, { token: server.token! });
  const expected = await reference.exec(command, { encoding: "utf8" }).stdout.readAllText();
  await reference.close();

  const first = await connect(`ws://127.0.0.1:${proxy.port}/ws`, { token: server.token! });
  const job = first.exec(command, { encoding: "utf8", id: "job", ackWindowBytes: 1 << 20 });
  const decoder = new TextDecoder();
  let received = "";
  try {
    for await (const bytes of job.stdout) {
      received += decoder.decode(bytes, { stream: true });
      if (received.length > 2_000_000) proxy.dropAll();
    }
  } catch (error) {
    expect(error).toMatchObject({ code: "connection_closed" });
  }
  const again = await connect(`ws://127.0.0.1:${proxy.port}/ws`, { token: server.token!, resume: first.resume });
  const rest = again.attach("job", { stdout: job.stdout.offset, stderr: job.stderr.offset }, { encoding: "utf8", ackWindowBytes: 1 << 20 });
  received += await rest.stdout.readAllText();
  await rest.exited;
  expect({ length: received.length, same: received === expected, gaps: rest.stdout.gaps }).toEqual({ length: expected.length, same: true, gaps: [] });
  await again.close();
}, 30_000);
