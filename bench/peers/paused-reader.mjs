// A bunker client that stops reading for a while in the middle of a stream, under Node with the
// real `ws` package (ws.pause() stops reading the socket; Bun's WebSocket cannot pause).
// Usage: BUNKER_TOKEN=... node paused-reader.mjs <url> <argv as JSON> <base64|binary|raw> <pauseAfterBytes> <pauseMs>
// "raw" reads a peer without bunker's protocol (the bare forwarder): every binary message is
// output, and a close with 1000 after the last byte stands for the command's exit 0; a text
// message is an `output` or `exit` as bunker sends them (the forwarder's base64 mode).
// Prints one JSON line per event: paused, resumed, done.
import WebSocket from "ws";

const [url, argvJson, encoding, pauseAfterArg, pauseMsArg] = process.argv.slice(2);
const pauseAfter = Number(pauseAfterArg);
const pauseMs = Number(pauseMsArg);
const zeros = Buffer.alloc(1024 * 1024);
const headers = process.env.BUNKER_TOKEN ? { authorization: `Bearer ${process.env.BUNKER_TOKEN}` } : {};
const ws = new WebSocket(url, ["bunker.v1"], { headers });
let received = 0;
let intact = true;
let gapBytes = 0;
let pausedOnce = false;
let exit = null;
const errors = [];
// Binary output: a header frame (kind 1, stream, u64 offset, id), then a frame of raw bytes.
let header;
const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");

function take(offset, bytes) {
  if (offset !== received) intact = false;
  for (let start = 0; start < bytes.length; start += zeros.length) {
    const piece = bytes.subarray(start, start + zeros.length);
    if (!piece.equals(zeros.subarray(0, piece.length))) intact = false;
  }
  received += bytes.length;
  if (!pausedOnce && received >= pauseAfter) {
    pausedOnce = true;
    ws.pause();
    emit({ event: "paused", received });
    setTimeout(() => {
      emit({ event: "resumed" });
      ws.resume();
    }, pauseMs);
  }
}

ws.on("message", (data, isBinary) => {
  if (encoding === "raw" && isBinary) {
    take(received, data);
    return;
  }
  if (isBinary) {
    if (header === undefined) {
      header = data[0] === 1 ? { offset: data.readUInt32BE(2) * 2 ** 32 + data.readUInt32BE(6) } : "unknown";
    } else {
      if (header !== "unknown") take(header.offset, data);
      header = undefined;
    }
    return;
  }
  const message = JSON.parse(data.toString());
  if (message.type === "hello") {
    ws.send(JSON.stringify({ type: "exec", id: "big", argv: JSON.parse(argvJson), encoding }));
  } else if (message.type === "output") {
    take(message.offset, Buffer.from(message.data, "base64"));
  } else if (message.type === "gap") {
    gapBytes += message.to - message.from;
    intact = false;
  } else if (message.type === "exit") {
    exit = message;
    ws.close();
  } else if (message.type === "error") {
    errors.push(message);
    // A refused exec never exits: stop here rather than wait forever.
    if (exit === null && received === 0) ws.close();
  }
});
ws.on("close", (code) => {
  if (encoding === "raw" && code === 1000) exit ??= { code: 0, reason: "closed" };
  emit({ event: "done", received, intact, gapBytes, exit, errors, closeCode: code });
});
ws.on("error", (error) => {
  emit({ event: "error", message: error.message });
  process.exit(1);
});
