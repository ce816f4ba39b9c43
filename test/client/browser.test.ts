// The client library in headless Chromium with the browser's own WebSocket: the token must travel
// as a subprotocol there, and binary frames arrive as ArrayBuffers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { REPO_ROOT, startServer, type TestServer } from "../helpers/server-process.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { launchChromium, noBrowserReason } from "../web/browser.ts";

let server: TestServer;
let browser: Browser;
let page: Page;
let bundleDir: string;
let bundle: string;

describe.skipIf(noBrowserReason !== undefined)("the client library in headless Chromium", () => {
  beforeAll(async () => {
    server = await startServer();
    bundleDir = mkdtempSync(join(tmpdir(), "bunker-client-browser-"));
    const entry = join(bundleDir, "entry.ts");
    writeFileSync(entry, `import * as client from ${JSON.stringify(join(REPO_ROOT, "src", "client", "index.ts"))};\n(globalThis as any).bunkerClient = client;\n`);
    const built = await Bun.build({ entrypoints: [entry], target: "browser", format: "iife" });
    if (!built.success) throw new Error(`bundling the client failed: ${built.logs.join("\n")}`);
    bundle = await built.outputs[0]!.text();
    expect(bundle).not.toContain("require(\"ws\")");
    browser = await launchChromium();
    // A page of the server's own origin, so that the Origin check lets its sockets through.
    page = await (await browser.newContext()).newPage();
    await page.goto(`http://127.0.0.1:${server.port}/client-test`);
    await page.addScriptTag({ content: bundle });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.[Symbol.asyncDispose]();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  test("runs a command, every byte value exact, with the token as a subprotocol", async () => {
    const result = await page.evaluate(
      async ({ url, token }) => {
        const { connect } = (globalThis as any).bunkerClient;
        const session = await connect(url, { token });
        const echo = session.exec(["sh", "-c", "echo hello; echo oops >&2; exit 3"]);
        const [stdout, stderr, exit] = await Promise.all([echo.stdout.readAllText(), echo.stderr.readAllText(), echo.exited]);
        const cat = session.exec(["cat"], { stdin: true });
        await cat.end(Uint8Array.from({ length: 256 }, (_, i) => i));
        const bytes: Uint8Array = await cat.stdout.readAll();
        const pty = await session.exec("stty size", { pty: { cols: 70, rows: 10 } }).stdout.readAllText();
        await session.close();
        return { stdout, stderr, code: exit.code, bytesExact: bytes.length === 256 && bytes.every((b, i) => b === i), pty, closed: await session.closed };
      },
      { url: server.url, token: server.token },
    );
    expect(result).toEqual({ stdout: "hello\n", stderr: "oops\n", code: 3, bytesExact: true, pty: "10 70\r\n", closed: { code: 4000, reason: "session closed" } });
  });

  test("a wrong token rejects with connect_failed", async () => {
    const code = await page.evaluate(async (url) => {
      const { connect } = (globalThis as any).bunkerClient;
      return connect(url, { token: "wrong-token-0123456789" }).then(
        () => "connected",
        (error: { code: string }) => error.code,
      );
    }, server.url);
    expect(code).toBe("connect_failed");
  });

  // A browser's WebSocket can neither ping nor terminate: the session sends `ping` and, when nothing
  // answers, settles everything itself rather than wait for a closing handshake that never ends.
  test("a relay frozen mid-command: the keepalive settles closed and exited with connection_closed", async () => {
    await using proxy = await startTcpProxy(server.port);
    // The page comes through the relay too, so that its origin is the one its socket goes to.
    const relayed = await (await browser.newContext()).newPage();
    await relayed.goto(`http://127.0.0.1:${proxy.port}/client-test`);
    await relayed.addScriptTag({ content: bundle });
    await relayed.exposeFunction("freezeRelay", () => proxy.freeze());
    const result = await relayed.evaluate(
      async ({ url, token }) => {
        const { connect } = (globalThis as any).bunkerClient;
        const session = await connect(url, { token, keepalive: { idleMs: 200, timeoutMs: 1000 } });
        const sleeper = session.exec(["sh", "-c", "echo ready; exec sleep 100"]);
        const stdout = sleeper.stdout[Symbol.asyncIterator]();
        await stdout.next();
        await (globalThis as any).freezeRelay();
        const closed = await session.closed;
        const exited = await sleeper.exited.then(
          () => "exited",
          (error: { code: string }) => error.code,
        );
        return { closed, exited };
      },
      { url: `ws://127.0.0.1:${proxy.port}/ws`, token: server.token },
    );
    expect(result).toEqual({ closed: { code: 1006, reason: "keepalive: no message within 1000 ms of a ping" }, exited: "connection_closed" });
    await relayed.close();
  });
});
