import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Debian's chromium package; the test never downloads a browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Why the browser test cannot run here, or undefined when it can. */
export const noBrowserReason = existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} is missing (apt-get install chromium)`;
if (noBrowserReason) console.warn(`skipping the page test: ${noBrowserReason}`);

/** Headless Chromium; as root it runs without its own sandbox, which refuses to start for root. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, chromiumSandbox: process.getuid?.() !== 0 });
}
