// An independent peer under Node with the real `ws` package: uploads `bytes` pseudo-random bytes to
// `path` with file.upload (keeping within the server's window), then downloads the file back with
// file.download, stopping reading for `pauseMs` after a third of it. Prints one JSON line per phase.
// Usage: node transfer-peer.mjs <url> <token> <path> <bytes> <pauseMs>
import { createCipheriv, createHash } from "node:crypto";
import WebSocket from "ws";

const [url, token, path, bytesArg, pauseMsArg] = process.argv.slice(2);
const total = Number(bytesArg);
const pauseMs = Number(pauseMsArg);
const ws = new WebSocket(url, ["bunker.v1"], { headers: { authorization: `Bearer ${token}` } });
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const waiters = [];
const inbox = [];
ws.on("message", (data) => {
  const message = JSON.parse(data.toString());
  const index = waiters.findIndex((waiter) => waiter.matches(message));
  if (index >= 0) waiters.splice(index, 1)[0].resolve(message);
  else inbox.push(message);
});
const next = (matches) => {
  const index = inbox.findIndex(matches);
  if (index >= 0) return Promise.resolve(inbox.splice(index, 1)[0]);
  return new Promise((resolve) => waiters.push({ matches, resolve }));
};
const ofId = (id) => (message) => message.id === id;

/** AES-CTR over zeros: a fast, reproducible stream of pseudo-random bytes. */
const stream = createCipheriv("aes-128-ctr", Buffer.alloc(16, 7), Buffer.alloc(16, 0));

async function upload() {
  ws.send(JSON.stringify({ type: "file.upload", id: "up", path, size: total }));
  const ready = await next(ofId("up"));
  if (ready.type !== "file.upload.ready") throw new Error(JSON.stringify(ready));
  const hash = createHash("sha256");
  const started = performance.now();
  let sent = 0;
  let acked = 0;
  let maxUnacked = 0;
  let done;
  while (!done) {
    while (sent < total && sent + ready.chunkBytes - acked <= ready.windowBytes) {
      const size = Math.min(ready.chunkBytes, total - sent);
      const bytes = stream.update(Buffer.alloc(size));
      hash.update(bytes);
      ws.send(JSON.stringify({ type: "file.upload.chunk", id: "up", offset: sent, data: bytes.toString("base64"), ...(sent + size === total && { eof: true }) }));
      sent += size;
      maxUnacked = Math.max(maxUnacked, sent - acked);
    }
    const reply = await next(ofId("up"));
    if (reply.type === "file.upload.ack") acked = reply.offset;
    else if (reply.type === "file.upload.done") done = reply;
    else throw new Error(JSON.stringify(reply));
  }
  const seconds = (performance.now() - started) / 1000;
  print({ event: "uploaded", bytes: sent, sha256: hash.digest("hex"), seconds, maxUnacked, windowBytes: ready.windowBytes, entry: done.entry });
}

async function download() {
  ws.send(JSON.stringify({ type: "file.download", id: "down", path }));
  const ready = await next(ofId("down"));
  if (ready.type !== "file.download.ready") throw new Error(JSON.stringify(ready));
  const hash = createHash("sha256");
  const started = performance.now();
  let received = 0;
  let contiguous = true;
  let pausedOnce = false;
  for (;;) {
    const reply = await next(ofId("down"));
    if (reply.type === "file.download.done") {
      const seconds = (performance.now() - started) / 1000;
      print({ event: "downloaded", bytes: received, sha256: hash.digest("hex"), seconds, contiguous, done: reply, pauseMs });
      return;
    }
    if (reply.type !== "file.download.chunk") throw new Error(JSON.stringify(reply));
    if (reply.offset !== received) contiguous = false;
    const bytes = Buffer.from(reply.data, "base64");
    hash.update(bytes);
    received += bytes.length;
    if (!pausedOnce && received >= total / 3) {
      pausedOnce = true;
      ws.pause();
      print({ event: "paused", received });
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      ws.resume();
    }
  }
}

ws.on("open", async () => {
  try {
    const hello = await next((message) => message.type === "hello");
    print({ event: "hello", workspace: hello.workspace, session: hello.session });
    await upload();
    await download();
    ws.close();
  } catch (error) {
    print({ event: "error", message: String(error.message ?? error) });
    process.exit(1);
  }
});
ws.on("error", (error) => {
  print({ event: "error", message: error.message });
  process.exit(1);
});
