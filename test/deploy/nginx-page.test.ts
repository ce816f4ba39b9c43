// The terminal page in Chromium through nginx with the shipped config: HTTPS and wss, at the root and
// under a path. Its Content-Security-Policy names no origin ('self'), so the policy that bunker sent
// for http://127.0.0.1:<port> holds for https://<nginx>/bunker/ as well: the page connects, runs a
// command and shows its output, and the browser reports no violation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";
import { EXPECTED_PAGE_HEADERS } from "../helpers/page-headers.ts";
import { nginxMissing, startNginx, startNginxUnderPath, type TestNginx } from "./nginx-process.ts";
import { launchChromium, noBrowserReason } from "../web/browser.ts";
import { createPolicyViolations, watchPolicyViolations } from "../web/policy-violations.ts";
import { PROMPT, typeCommand, waitForLines } from "../web/terminal-screen.ts";

const noNginx = nginxMissing();
if (noNginx && process.env["REQUIRE_SANDBOX"] === "1") throw new Error(`REQUIRE_SANDBOX=1 but ${noNginx}`);
const missing = noNginx ?? noBrowserReason;
if (missing) console.warn(`skipping the page-through-nginx tests: ${missing}`);

/** Where nginx serves the page: the shipped config, and the same under a path (docs/INSTALL.md). */
const PLACES = ["at the root", "under /bunker/"] as const;

describe.skipIf(missing !== undefined)("the page through nginx (deploy/nginx/bunker.conf), in Chromium", () => {
  let relay: TcpProxy;
  let server: TestServer;
  let browser: Browser;
  const nginxes: TestNginx[] = [];
  /** The page's address through each nginx. */
  const bases = new Map<(typeof PLACES)[number], string>();

  beforeAll(async () => {
    // bunker must know nginx's origins (--allow-origin), and nginx bunker's port: nginx goes to a
    // relay first, which is pointed at bunker once bunker runs.
    relay = await startTcpProxy(1);
    const atRoot = await startNginx(relay.port);
    nginxes.push(atRoot);
    bases.set("at the root", atRoot.wssUrl.replace(/^wss:/, "https:").replace(/ws$/, ""));
    const underPath = await startNginxUnderPath(relay.port, "/bunker/");
    nginxes.push(underPath);
    bases.set("under /bunker/", underPath.baseUrl);
    server = await startServer({ args: [...bases.values()].flatMap((base) => ["--allow-origin", new URL(base).origin]) });
    relay.retarget(server.port);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const nginx of nginxes) await nginx[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
    await relay?.[Symbol.asyncDispose]();
  });

  for (const where of PLACES) {
    test(`${where}: connects over wss, runs a command and shows its output with no policy violation`, async () => {
      const base = bases.get(where)!;
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 600 } });
      const violations = createPolicyViolations();
      await watchPolicyViolations(context, violations);
      const page = await context.newPage();
      const sockets: string[] = [];
      page.on("websocket", (socket) => sockets.push(socket.url()));
      const response = await page.goto(`${base}#token=${server.token}`);
      expect({ status: response?.status(), policy: await response?.headerValue("content-security-policy") }).toEqual({
        status: 200,
        policy: EXPECTED_PAGE_HEADERS["content-security-policy"],
      });
      await waitForLines(page, [PROMPT]);
      await typeCommand(page, "echo through-$((6*7))-nginx");
      await waitForLines(page, ["^through-42-nginx$", PROMPT]);
      expect(sockets[0]).toStartWith(`${base.replace(/^https:/, "wss:")}ws?`);
      expect(violations.lines).toEqual([]);
      await context.close();
    }, 30_000);
  }
});
