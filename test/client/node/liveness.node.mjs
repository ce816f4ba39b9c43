// The client library under Node 20 with `ws`, for test/client/node-runtime.test.ts, one case per run:
//   node liveness.node.mjs <case>   with BUNKER_CLIENT_DIR (the built node.mjs and base64.mjs),
//   BUNKER_URL, BUNKER_TOKEN (and, run by bun, BUNKER_CLIENT_MODULE: src/client/index.ts). It prints JSON lines; the test reads them, and the process must then
// exit by itself: nothing of the client (a timer, a socket) may keep it alive.
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import WebSocket from "ws";

const dir = process.env.BUNKER_CLIENT_DIR;
// Under Bun the client's TypeScript entry, with Bun's own WebSocket, may be named instead.
const { connect } = await import(process.env.BUNKER_CLIENT_MODULE ?? pathToFileURL(join(dir, "node.mjs")).href);
const url = process.env.BUNKER_URL;
const token = process.env.BUNKER_TOKEN;
const KEEPALIVE = { idleMs: 200, timeoutMs: 1000 };
const say = (fields) => console.log(JSON.stringify(fields));
const outcome = (promise) => promise.then((value) => ({ value }), (error) => ({ code: error.code, message: error.message }));

async function readUntil(iterator, expected) {
  let text = "";
  while (!text.endsWith(expected)) {
    const { done, value } = await iterator.next();
    if (done) throw new Error(`the stream ended before ${expected}`);
    text += new TextDecoder().decode(value);
  }
}

const cases = {
  /** Through a relay the test freezes once this says `ready`. */
  async frozen() {
    const session = await connect(url, { token, keepalive: KEEPALIVE });
    const sleeper = session.exec(["sh", "-c", "echo ready; exec sleep 100"]);
    const stdout = sleeper.stdout[Symbol.asyncIterator]();
    await readUntil(stdout, "ready\n");
    say({ event: "ready" });
    const closed = await session.closed;
    const exited = await outcome(sleeper.exited);
    say({ event: "settled", closed, exited: exited.code });
  },
  /** A listener that never answers the upgrade. */
  async silent() {
    say({ event: "settled", connect: await outcome(connect(url, { connectTimeoutMs: 300 })) });
  },
  /** The event loop is blocked past the keepalive's timeout right after its first ping. */
  async busy() {
    let pings = 0;
    class BusyAfterPing extends WebSocket {
      send(data, ...rest) {
        super.send(data, ...rest);
        if (typeof data !== "string" || !data.startsWith('{"type":"ping"') || pings++ > 0) return;
        // After the keepalive has started its wait for an answer, as a task queued behind it would.
        setImmediate(() => {
          const until = performance.now() + 3 * KEEPALIVE.timeoutMs;
          while (performance.now() < until);
        });
      }
    }
    const session = await connect(url, { token, WebSocket: BusyAfterPing, keepalive: KEEPALIVE });
    const exited = await outcome(session.exec(["sleep", "2"]).exited);
    say({ event: "settled", exited: exited.value?.code ?? exited.code, pings });
    await session.close();
  },
  /** Long timers that must not keep the process alive once the session is over. */
  async done() {
    const options = { token, connectTimeoutMs: 600_000, keepalive: { idleMs: 600_000, timeoutMs: 600_000 } };
    const closedSession = await connect(url, options);
    await closedSession.exec(["true"]).exited;
    await closedSession.close();
    const disconnected = await connect(url, options);
    await disconnected.disconnect();
    const refused = await outcome(connect(url, { ...options, token: "wrong-token-0123456789" }));
    say({ event: "settled", refused: refused.code });
  },
  /** Which base64 path Node takes, and that it is exact. */
  async base64() {
    const { BASE64, encodeBase64, decodeBase64 } = await import(pathToFileURL(join(dir, "base64.mjs")).href);
    const whole = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 167 + (i >> 8)) & 0xff);
    const view = whole.subarray(5, 299_999);
    const text = encodeBase64(view);
    const back = decodeBase64(text);
    const small = decodeBase64("Zm9vYmFy");
    say({
      event: "settled",
      codec: BASE64.name,
      exact: text === Buffer.from(view).toString("base64") && back.constructor === Uint8Array && Buffer.compare(back, view) === 0,
      smallOwnsItsBuffer: small.constructor === Uint8Array && small.buffer.byteLength === 6,
      refusesBase64Url: decodeBase64("Zm-v") === undefined,
    });
  },
};

await cases[process.argv[2]]();
