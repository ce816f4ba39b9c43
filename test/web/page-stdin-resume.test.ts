// Keystrokes typed into the page while its connection dies: a relay holds what the page sends, then
// the connection is lost. The page resumes its session and sends again exactly what the server did
// not take in (ExecInfo.stdin.received), and its resume replaces the old socket, so that what the
// relay held can never arrive as well.
import { describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { startHoldingProxy, type HoldingProxy } from "../helpers/holding-proxy.ts";
import type { TestServer } from "../helpers/server-process.ts";
import { noBrowserReason, withServerAndBrowser } from "./browser.ts";
import { PROMPT, escapeRegex, waitForLines } from "./terminal-screen.ts";

/** Multi-byte UTF-8 too: the page counts bytes as the server does. */
const TYPED = "held-é-日本-🎉-keys";

let server: TestServer;
let browser: Browser;

/** A page through `proxy`, at its shell's prompt with `echo ` typed; returns the prompt. */
async function openAtEcho(proxy: HoldingProxy): Promise<{ page: Page; prompt: string }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${proxy.port}/#token=${server.token}`);
  const [prompt] = await waitForLines(page, [PROMPT]);
  await page.keyboard.type("echo ");
  await waitForLines(page, [`${escapeRegex(prompt!)} echo$`]);
  return { page, prompt: prompt! };
}

/** Types TYPED while the relay holds everything the page sends, each keystroke on its way before the next. */
async function typeIntoHeldConnection(page: Page, proxy: HoldingProxy): Promise<void> {
  proxy.hold();
  for (const char of TYPED) {
    const before = proxy.heldBytes;
    await page.keyboard.type(char);
    await proxy.held(before + 1);
  }
}

/** Presses Enter once the page knows its socket is gone (so Enter waits in the page), and returns the lines it brings. */
async function enterAfterTheDrop(page: Page): Promise<string[]> {
  await page.waitForSelector('#status[data-connection="reconnecting"]');
  await page.keyboard.press("Enter");
  return waitForLines(page, [".*", ".*", PROMPT]);
}

describe.skipIf(noBrowserReason !== undefined)("keystrokes across a dropped connection in the terminal page", () => {
  withServerAndBrowser((started, launched) => {
    server = started;
    browser = launched;
  });

  test("sends again the keystrokes a cut connection lost, before the Enter typed after them, each once", async () => {
    await using proxy = await startHoldingProxy(server.port);
    const { page, prompt } = await openAtEcho(proxy);
    await typeIntoHeldConnection(page, proxy);
    proxy.dropAll();
    expect(await enterAfterTheDrop(page)).toEqual([`${prompt} echo ${TYPED}`, TYPED, prompt]);
    await page.context().close();
  }, 60_000);

  test("shows the keystrokes a stalled relay holds once the page resumes, and never again when the relay lets them go", async () => {
    await using proxy = await startHoldingProxy(server.port);
    const { page, prompt } = await openAtEcho(proxy);
    await typeIntoHeldConnection(page, proxy);
    // The page hears of the drop; the server still holds the old socket, the relay its bytes.
    proxy.dropClients();
    await page.waitForSelector('#status[data-connection="reconnecting"]');
    await waitForLines(page, [`${escapeRegex(`${prompt} echo ${TYPED}`)}$`], 10_000);
    // Without `replaces` the server would take these in too: every keystroke twice.
    await proxy.release();
    await page.keyboard.press("Enter");
    expect(await waitForLines(page, [".*", ".*", PROMPT])).toEqual([`${prompt} echo ${TYPED}`, TYPED, prompt]);
    await page.context().close();
  }, 60_000);
});
