import { afterAll, beforeAll } from "bun:test";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { startServer, type TestServer } from "../helpers/server-process.ts";

/** Debian's chromium package; the test never downloads a browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Why the browser test cannot run here, or undefined when it can. */
export const noBrowserReason = existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} is missing (apt-get install chromium)`;
if (noBrowserReason) console.warn(`skipping the page test: ${noBrowserReason}`);

/** Headless Chromium; as root it runs without its own sandbox, which refuses to start for root. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, chromiumSandbox: process.getuid?.() !== 0 });
}

/**
 * Starts a bunker server and Chromium before the enclosing describe's tests (`started` gets both,
 * and may prepare more) and stops both after them: the server first, since a browser that a
 * timed-out test left dead makes close() throw.
 */
export function withServerAndBrowser(started: (server: TestServer, browser: Browser) => void | Promise<void>): void {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await startServer();
    browser = await launchChromium();
    await started(server, browser);
  }, 60_000);
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]();
    await browser?.close();
  });
}
