// The client library under Node 20 with the real `ws` package: an independent peer of the server.
// Run by test/client/node-package.test.ts from a Node project that installed the packed package:
//   BUNKER_CLIENT_MODULE=bunker/client BUNKER_URL=<ws url> BUNKER_TOKEN=<token> node --test ws-client.node.mjs
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

const { connect, BunkerError } = await import(process.env.BUNKER_CLIENT_MODULE);
const url = process.env.BUNKER_URL;
const token = process.env.BUNKER_TOKEN;

let session;
before(async () => {
  session = await connect(url, { token });
});
after(async () => {
  await session?.close();
});

const collect = async (handle) => {
  const [stdout, stderr, exit] = await Promise.all([handle.stdout.readAllText(), handle.stderr.readAllText(), handle.exited]);
  return { stdout, stderr, exit };
};

test("connects through ws with the token as a header and gets hello", () => {
  assert.equal(session.resumed, false);
  assert.equal(typeof session.id, "string");
  assert.equal(typeof session.resume.secret, "string");
});

test("streams stdout and stderr and reports the exit facts", async () => {
  const result = await collect(session.exec(["sh", "-c", "echo hello; echo oops >&2; exit 3"]));
  assert.equal(result.stdout, "hello\n");
  assert.equal(result.stderr, "oops\n");
  assert.deepEqual({ ...result.exit, durationMs: 0 }, { code: 3, signal: null, reason: "exited", durationMs: 0 });
});

test("binary frames carry every byte value exactly, through stdin and back", async () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const cat = session.exec(["cat"], { stdin: true });
  await cat.write(all.subarray(0, 100));
  await cat.end(all.subarray(100));
  assert.deepEqual(await cat.stdout.readAll(), all);
  assert.equal((await cat.exited).code, 0);
});

test("text() decodes the stream chunk by chunk", async () => {
  const handle = session.exec(["printf", "caf\\303\\251"]);
  let text = "";
  for await (const piece of handle.stdout.text()) text += piece;
  assert.equal(text, "café");
});

test("a signal ends the command, and the exit says killed", async () => {
  const sleeper = session.exec(["sh", "-c", "echo ready; exec sleep 100"]);
  for await (const chunk of sleeper.stdout) {
    if (new TextDecoder().decode(chunk).includes("ready")) break;
  }
  assert.equal(sleeper.signal("SIGTERM"), true);
  const exit = await sleeper.exited;
  assert.equal(exit.signal, "SIGTERM");
  assert.equal(exit.reason, "killed");
});

test("a PTY exec runs on a terminal of the asked size", async () => {
  const handle = session.exec("stty size", { pty: { cols: 90, rows: 20 } });
  assert.equal(await handle.stdout.readAllText(), "20 90\r\n");
});

test("an unknown program rejects with spawn_failed", async () => {
  await assert.rejects(session.exec(["no-such-program-here"]).exited, (error) => error instanceof BunkerError && error.code === "spawn_failed");
});

test("a wrong token rejects connect with connect_failed", async () => {
  await assert.rejects(connect(url, { token: "wrong-token-0123456789" }), (error) => error.code === "connect_failed" && /401/.test(error.message));
});

test("resume: a second connection picks the session up and replays an exec", async () => {
  const first = await connect(url, { token });
  const handle = first.exec(["echo", "before the drop"]);
  await handle.exited;
  await first.disconnect();
  const second = await connect(url, { token, resume: first.resume });
  assert.equal(second.resumed, true);
  assert.equal(await second.attach(handle.id).stdout.readAllText(), "before the drop\n");
  await second.close();
  assert.equal((await second.closed).code, 4000);
});

test("files: write, read, a 2 MB upload read back whole (a read then a download), a watch, under Node", async () => {
  const files = session.files;
  assert.equal((await files.write("node/a.txt", "from node")).size, 9);
  assert.equal(await files.read("node/a.txt"), "from node");
  const big = Uint8Array.from({ length: 2 * 1024 * 1024 }, (_, i) => i % 253);
  assert.equal((await files.upload("node/big.bin", big)).size, big.length);
  assert.deepEqual(await files.readBytes("node/big.bin"), big);
  const watch = await files.watch("node");
  await files.write("node/new.txt", "x");
  for await (const event of watch) if (event.path === "node/new.txt") break;
  await watch.close();
  await files.remove("node", { recursive: true });
  assert.equal(await files.exists("node"), false);
});

test("a slow reader gets all of a 20 MB stdin: writes wait for stdin.ack, under Node", async () => {
  const input = new Uint8Array(20 * 1024 * 1024).fill(97);
  const handle = session.exec(["sh", "-c", "sleep 1; wc -c"], { stdin: true });
  await handle.end(input);
  assert.equal(await handle.stdout.readAllText(), `${input.byteLength}\n`);
});
