// An independent peer under Node with the real `ws` package: runs one exec, stops reading for a
// while in the middle, and prints a JSON summary of what arrived. Usage:
//   node stream-reader.mjs <url> <token> <cmd> <pauseAfterBytes> <pauseMs>
import WebSocket from "ws";

const [url, token, cmd, pauseAfterArg, pauseMsArg] = process.argv.slice(2);
const pauseAfter = Number(pauseAfterArg);
const pauseMs = Number(pauseMsArg);
const ws = new WebSocket(url, ["bunker.v1"], { headers: { authorization: `Bearer ${token}` } });
let total = 0;
let contiguous = true;
let paused = false;
let pausedOnce = false;
let exit = null;
const errors = [];

ws.on("open", () => ws.send(JSON.stringify({ type: "exec", id: "big", cmd, encoding: "base64" })));
ws.on("message", (data) => {
  const message = JSON.parse(data.toString());
  if (message.type === "output") {
    if (message.offset !== total) contiguous = false;
    const bytes = Buffer.from(message.data, "base64");
    for (let i = 0; i < bytes.length; i += 4096) if (bytes[i] !== 0) contiguous = false;
    total += bytes.length;
    if (!pausedOnce && total >= pauseAfter) {
      pausedOnce = true;
      paused = true;
      ws.pause();
      process.stdout.write(JSON.stringify({ event: "paused", total }) + "\n");
      setTimeout(() => {
        paused = false;
        process.stdout.write(JSON.stringify({ event: "resumed" }) + "\n");
        ws.resume();
      }, pauseMs);
    }
  } else if (message.type === "exit") {
    exit = message;
    ws.close();
  } else if (message.type === "error") {
    errors.push(message);
  }
});
ws.on("close", (code) => {
  process.stdout.write(JSON.stringify({ event: "done", total, contiguous, exit, errors, closeCode: code, paused }) + "\n");
});
ws.on("error", (error) => {
  process.stdout.write(JSON.stringify({ event: "error", message: error.message }) + "\n");
  process.exit(1);
});
