import { describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import type { TestServer } from "../helpers/server-process.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { noBrowserReason, withServerAndBrowser } from "./browser.ts";
import { PROMPT, exitShell, typeCommand, waitForLines } from "./terminal-screen.ts";

let server: TestServer;
let browser: Browser;

/** Where the keyboard is: "New shell" when on the status bar's button, else the focused element's tag. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (element?.closest("#status") && element.textContent === "New shell") return "New shell";
    return element?.tagName.toLowerCase() ?? "none";
  });
}

describe.skipIf(noBrowserReason !== undefined)("the terminal page's status bar", () => {
  withServerAndBrowser((started, launched) => {
    server = started;
    browser = launched;
  });

  // Bug: the bar made its New shell button anew at every change of any tab, and the keyboard focus
  // on it went with the old one (to the page's body).
  test("keeps the keyboard on its New shell button while the connection drops and comes back, and the button works then", async () => {
    await using proxy = await startTcpProxy(server.port);
    const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${proxy.port}/#token=${server.token}`);
    await waitForLines(page, [PROMPT]);
    await exitShell(page);
    const button = page.locator("#status").getByRole("button", { name: "New shell" });
    await button.focus();
    expect(await focused(page)).toBe("New shell");

    // Each step of the reconnect redraws the bar.
    proxy.dropAll();
    await page.waitForSelector('#status[data-connection="reconnecting"]');
    expect(await focused(page)).toBe("New shell");
    // Not `disabled`: a disabled button loses the focus too. It says so to screen readers instead.
    expect(await button.getAttribute("aria-disabled")).toBe("true");
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    await page.waitForSelector('#status[data-connection="open"]');
    expect(await focused(page)).toBe("New shell");
    expect(await button.getAttribute("aria-disabled")).toBe("false");

    await page.keyboard.press("Enter");
    await waitForLines(page, [PROMPT]);
    await typeCommand(page, "echo after-new-shell");
    await waitForLines(page, ["echo after-new-shell$", "^after-new-shell$", PROMPT]);
    await context.close();
  }, 30_000);
});
