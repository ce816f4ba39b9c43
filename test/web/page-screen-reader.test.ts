import { describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Terminal } from "@xterm/xterm";
import type { TestServer } from "../helpers/server-process.ts";
import { noBrowserReason, withServerAndBrowser } from "./browser.ts";
import { PROMPT, typeCommand, waitForLines } from "./terminal-screen.ts";
import { createPolicyViolations, watchPolicyViolations } from "./policy-violations.ts";

let server: TestServer;
let browser: Browser;
/** Every policy violation of the pages this file opens: none, says its last test. */
const violations = createPolicyViolations();

/** A browser context whose pages' policy violations are recorded. */
async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  await watchPolicyViolations(context, violations);
  return context;
}

/** Opens the page at `query` (with the token) and waits for the prompt. */
async function openPage(context: BrowserContext, query = ""): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${server.port}/${query}#token=${server.token}`);
  await waitForLines(page, [PROMPT]);
  return page;
}

/** The shown terminal's screenReaderMode, and whether its pane holds xterm.js's accessibility tree. */
function screenReaderState(page: Page): Promise<{ option: boolean | undefined; tree: boolean }> {
  return page.evaluate(() => ({
    option: (window as unknown as { __bunkerTerm: Terminal }).__bunkerTerm.options.screenReaderMode,
    tree: document.querySelector(".pane.active .xterm-accessibility-tree") !== null,
  }));
}

describe.skipIf(noBrowserReason !== undefined)("the terminal page's screen reader mode", () => {
  withServerAndBrowser((started, launched) => {
    server = started;
    browser = launched;
  });

  test("turns xterm.js's screen reader mode on from a toggle after the tabs, in every tab, and remembers it", async () => {
    const context = await newContext();
    const page = await openPage(context);
    const toggle = page.getByRole("button", { name: "Screen reader mode" });
    expect(await toggle.count()).toBe(1);
    expect(await toggle.getAttribute("aria-pressed")).toBe("false");
    expect(await screenReaderState(page)).toEqual({ option: false, tree: false });

    // By keyboard: to the tabs, then Tab past the + to the toggle.
    await page.keyboard.press("Control+Shift+L");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.className)).toBe("screen-reader-toggle");
    await page.keyboard.press("Space");
    expect(await toggle.getAttribute("aria-pressed")).toBe("true");
    expect(await screenReaderState(page)).toEqual({ option: true, tree: true });

    // The output is in the DOM, where a screen reader reads it.
    await page.keyboard.press("Escape");
    await typeCommand(page, "echo read-me-$((6*7))");
    await page.waitForFunction(() => document.querySelector(".pane.active .xterm-accessibility-tree")?.textContent?.includes("read-me-42"));

    await page.click(".tab-add");
    await page.waitForFunction(() => document.querySelectorAll(".tab").length === 2);
    await waitForLines(page, [PROMPT]);
    expect(await screenReaderState(page)).toEqual({ option: true, tree: true });

    // The next visit (localStorage is the browser's, for every tab) starts with it on.
    const next = await openPage(context);
    expect(await next.getByRole("button", { name: "Screen reader mode" }).getAttribute("aria-pressed")).toBe("true");
    expect(await screenReaderState(next)).toEqual({ option: true, tree: true });
    await next.getByRole("button", { name: "Screen reader mode" }).click();
    expect(await screenReaderState(next)).toEqual({ option: false, tree: false });
    expect(await next.evaluate(() => localStorage.getItem("bunker.screenReaderMode"))).toBe("off");
    await context.close();
  }, 30_000);

  test("turns it on from ?screen-reader=on in the address, remembers it, and takes the flag out of the address", async () => {
    const context = await newContext();
    const page = await openPage(context, "?screen-reader=on");
    expect(await screenReaderState(page)).toEqual({ option: true, tree: true });
    expect(page.url()).toBe(`http://127.0.0.1:${server.port}/`);
    expect(await page.evaluate(() => localStorage.getItem("bunker.screenReaderMode"))).toBe("on");
    // The session works as ever with it on.
    await typeCommand(page, "echo with-screen-reader");
    await waitForLines(page, ["^with-screen-reader$", PROMPT]);
    await context.close();
  }, 30_000);

  // Last: xterm.js writes its accessibility tree into the DOM as output comes, under the page's Trusted Types.
  test("reports no policy violation", () => {
    expect(violations.lines).toEqual([]);
  });
});
