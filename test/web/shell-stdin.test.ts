// The page's stdin pacing (src/web/shell.ts) against a real server: a shell object fed by a real
// socket opened as the page opens it, with a terminal that renders at once. What a paste needs after
// a reload (a new page attaching to a shell whose stdin has history) and after a reconnect.
import { expect, test } from "bun:test";
import { connect, type Session } from "../../src/client/index.ts";
import { decodeServerMessage, type ClientMessage, type ExecInfo, type HelloMessage } from "../../src/protocol/index.ts";
import { createBinaryFrameReader } from "../../src/web/frame-reader.ts";
import { createShell, type Shell } from "../../src/web/shell.ts";
import { buildSocketUrl, buildSubprotocols } from "../../src/web/socket-url.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { useSharedServer } from "../helpers/shared-server.ts";
import { sha256Hex } from "../helpers/sha256.ts";

const MiB = 1024 * 1024;
const shared = useSharedServer();

/** ASCII that a raw terminal passes through unchanged, as a paste would bring it. */
function pasteText(length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  return alphabet.repeat(Math.ceil(length / alphabet.length)).slice(0, length);
}

/** One page socket of a session, as src/web/connection.ts opens it, feeding one shell. */
interface PageSocket {
  readonly hello: HelloMessage;
  /** Stdin bytes the shell handed to this socket (base64 decoded, as the server counts them). */
  stdinBytes(): number;
  /** Resolves once the shell has handed this socket `bytes` of stdin. */
  stdinReached(bytes: number): Promise<void>;
  /** From now on the socket takes messages and loses them, as a network that has gone dark does. */
  goDark(): void;
  close(): Promise<void>;
}

/** A page: one shell whose terminal keeps what it shows, and whose socket a test can replace. */
function createPage(id: string) {
  let screen = "";
  const watchers: { pattern: RegExp; resolve: (match: string) => void }[] = [];
  let current: { ws: WebSocket; dark: boolean; stdin: number; waiters: { bytes: number; resolve: () => void }[] } | undefined;
  const decoder = new TextDecoder();
  const shell: Shell = createShell({
    id,
    term: {
      cols: 80,
      rows: 24,
      write(data, callback) {
        screen = (screen + (typeof data === "string" ? data : decoder.decode(data))).slice(-4096);
        for (const watcher of [...watchers]) {
          const match = watcher.pattern.exec(screen);
          if (match) {
            watchers.splice(watchers.indexOf(watcher), 1);
            watcher.resolve(match[0]);
          }
        }
        callback?.();
      },
    },
    send(message: ClientMessage) {
      if (!current || current.ws.readyState !== WebSocket.OPEN) return false;
      if (message.type === "stdin" && message.data !== undefined) {
        current.stdin += message.encoding === "base64" ? Buffer.from(message.data, "base64").byteLength : Buffer.byteLength(message.data);
        for (const waiter of [...current.waiters]) {
          if (current.stdin < waiter.bytes) continue;
          current.waiters.splice(current.waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      if (!current.dark) current.ws.send(JSON.stringify(message));
      return true;
    },
    changed() {},
  });
  return {
    shell,
    /** Resolves with the first text on screen that matches. */
    shows(pattern: RegExp): Promise<string> {
      const match = pattern.exec(screen);
      if (match) return Promise.resolve(match[0]);
      return new Promise((resolve) => watchers.push({ pattern, resolve }));
    },
    /** Opens a socket that resumes `resume`, and attaches the shell to its exec (or starts it, as a new tab does). */
    async open(resume: { session: string; secret: string }, how: "attach" | "start" = "attach"): Promise<PageSocket> {
      const ws = new WebSocket(buildSocketUrl({ protocol: "http:", host: `127.0.0.1:${shared.server.port}` }, resume.session), buildSubprotocols(shared.server.token, resume.secret));
      ws.binaryType = "arraybuffer";
      const frames = createBinaryFrameReader();
      const state = { ws, dark: false, stdin: 0, waiters: [] as { bytes: number; resolve: () => void }[] };
      const closed = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve()));
      const hello = await new Promise<HelloMessage>((resolve, reject) => {
        ws.addEventListener("close", () => reject(new Error("the page socket closed before hello")));
        ws.addEventListener("message", (event: MessageEvent) => {
          if (event.data instanceof ArrayBuffer) {
            const chunk = frames.read(new Uint8Array(event.data));
            if (chunk && chunk.id === id) shell.output(chunk.offset, chunk.bytes);
            return;
          }
          const decoded = decodeServerMessage(String(event.data));
          if (!decoded.ok) return;
          if (decoded.message.type === "hello") return resolve(decoded.message);
          if ("id" in decoded.message && decoded.message.id === id) shell.handle(decoded.message);
        });
      });
      current = state;
      if (how === "start") shell.start();
      else shell.attach(hello.execs.find((exec: ExecInfo) => exec.id === id)!);
      return {
        hello,
        stdinBytes: () => state.stdin,
        stdinReached: (bytes) => (state.stdin >= bytes ? Promise.resolve() : new Promise((resolve) => state.waiters.push({ bytes, resolve }))),
        goDark: () => void (state.dark = true),
        async close() {
          ws.close();
          await closed;
        },
      };
    },
  };
}

/**
 * A PTY exec in raw mode, started by the library, that the page then takes over. It is raw before
 * the first keystroke: in canonical mode a line holds 4095 characters, and the terminal drops the
 * rest (a paste typed before `stty raw` ran was cut, and the test waited for ever).
 */
async function startRawTerminal(session: Session, id: string, script: string) {
  const handle = session.exec(["sh", "-c", `stty raw -echo; echo raw; ${script}`], { id, pty: { cols: 80, rows: 24 }, timeoutMs: 30_000 });
  for await (const text of handle.stdout.text()) if (text.includes("raw")) break;
  return handle;
}


// stdin.ack counts the exec's stdin from its first byte. A page reloaded onto a shell that had
// already taken 10 MiB took the first ack it heard as its own progress, sent far past the server's
// bound, and the paste lost its middle to limit_exceeded.
test.skipIf(noBwrap)("a page reloaded onto a shell whose stdin took 10 MiB before pastes 24 MiB whole", async () => {
  const library = await connect(shared.server.url, { token: shared.server.token! });
  expect((await library.exec(["mkfifo", "gate"]).exited).code).toBe(0);
  const earlier = await startRawTerminal(library, "reloaded", `head -c ${10 * MiB} > /dev/null; echo taken; read _ < gate; head -c ${24 * MiB} | sha256sum`);
  await earlier.write(pasteText(10 * MiB));
  const page = createPage("reloaded");
  await page.open(library.resume);
  await page.shows(/taken/);
  const paste = pasteText(24 * MiB);
  page.shell.input(paste);
  expect((await library.exec(["sh", "-c", "echo go > gate"]).exited).code).toBe(0);
  expect(await page.shows(new RegExp(`${sha256Hex(paste)}|limit_exceeded`))).toBe(sha256Hex(paste));
  await library.close();
}, 30_000);

// A drop loses what was in flight, unknown to the page. Counted as still waiting in the server,
// those bytes left no room under the bound, no stdin.ack ever came for them, and every later
// keystroke waited behind them: the terminal took no input again. Then the lost bytes were simply
// gone; now the resume sends them again from the server's count (ExecInfo.stdin.received).
test.skipIf(noBwrap)("after a reconnect that lost a paste in flight, the lost part goes again first and the next paste follows", async () => {
  const library = await connect(shared.server.url, { token: shared.server.token! });
  const page = createPage("dropped");
  const first = await page.open(library.resume, "start");
  await page.shows(/\$ $/);
  page.shell.input(`stty raw -echo; echo rea""dy; head -c ${12 * MiB} | sha256sum\r`);
  await page.shows(/ready/);
  first.goDark();
  page.shell.input(pasteText(8 * MiB));
  // What the page's credit allowed went out and is lost; the rest waits in the page.
  expect(first.stdinBytes()).toBeGreaterThan(0);
  await first.close();
  await page.open(library.resume);
  page.shell.input(pasteText(12 * MiB));
  // What went into the dark, then the rest of the first paste, then the next: the command reads the
  // first paste whole.
  const shown = await page.shows(/\b[0-9a-f]{64}\b|limit_exceeded/);
  expect(shown).toBe(sha256Hex((pasteText(8 * MiB) + pasteText(12 * MiB)).slice(0, 12 * MiB)));
  await library.close();
}, 30_000);

// The page counted its stdin from the first ack it heard, and sent 2 MiB before that: onto 7 MiB of
// keystrokes the terminal had not taken, a piece of the paste was refused (limit_exceeded).
test.skipIf(noBwrap)("a page reloaded onto a shell that still holds 7 MiB of unread keystrokes pastes 12 MiB whole", async () => {
  const library = await connect(shared.server.url, { token: shared.server.token! });
  expect((await library.exec(["mkfifo", "gate"]).exited).code).toBe(0);
  const earlier = await startRawTerminal(library, "unread", `read _ < gate; head -c ${19 * MiB} | sha256sum`);
  const typed = pasteText(7 * MiB);
  await earlier.write(typed);
  const page = createPage("unread");
  await page.open(library.resume);
  // Input waits until what the shell printed before the attach has been replayed (see shell.ts).
  await page.shows(/raw/);
  const paste = pasteText(12 * MiB).toUpperCase();
  page.shell.input(paste);
  // No room is left for the page until the command reads: the 7 MiB and the library's unused credit fill it.
  expect((await library.exec(["sh", "-c", "echo go > gate"]).exited).code).toBe(0);
  expect(await page.shows(/\b[0-9a-f]{64}\b|limit_exceeded/)).toBe(sha256Hex(typed + paste));
  await library.close();
}, 30_000);

// Two writers at once: the library's handle (which started the shell) counted on all 8 MiB for
// itself, the page on 2 MiB more, and together they passed the bound.
test.skipIf(noBwrap)("a page pastes into a shell that another writer fills at the same time, and both arrive whole", async () => {
  const library = await connect(shared.server.url, { token: shared.server.token! });
  expect((await library.exec(["mkfifo", "gate"]).exited).code).toBe(0);
  const script = `read _ < gate; head -c ${24 * MiB} > /tmp/all; tr -dc a-z < /tmp/all | sha256sum; tr -dc A-Z < /tmp/all | sha256sum`;
  const other = await startRawTerminal(library, "beside", script);
  const page = createPage("beside");
  const socket = await page.open(library.resume);
  await page.shows(/raw/);
  const lower = "abcdefghijklmnopqrstuvwxyz".repeat(Math.ceil((12 * MiB) / 26)).slice(0, 12 * MiB);
  const upper = lower.toUpperCase();
  const written = other.write(lower);
  page.shell.input(upper);
  await socket.stdinReached(MiB);
  expect((await library.exec(["sh", "-c", "echo go > gate"]).exited).code).toBe(0);
  await written;
  const shown = await page.shows(new RegExp(`${sha256Hex(upper)}|limit_exceeded`));
  expect({ shown, lower: await page.shows(new RegExp(`${sha256Hex(lower)}|limit_exceeded`)), errors: other.errors }).toEqual({ shown: sha256Hex(upper), lower: sha256Hex(lower), errors: [] });
  await library.close();
}, 30_000);
