import { describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { noBrowserReason, withServerAndBrowser } from "./browser.ts";
import { PROMPT, exitShell, typeCommand, waitForLines } from "./terminal-screen.ts";

let server: TestServer;
let browser: Browser;

/** A fresh browser context at the page of `port`, with two sessions at their prompts, the second shown. */
async function openWithTwoTabs(port: number, token: string | undefined): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/#token=${token}`);
  await waitForLines(page, [PROMPT]);
  await page.click(".tab-add");
  await page.waitForFunction(() => document.querySelectorAll(".tab").length === 2);
  await waitForLines(page, [PROMPT]);
  return page;
}

/** The id of the pane whose terminal has the keyboard, or the focused element's id. */
function focusedPlace(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    return element?.closest(".pane")?.id ?? element?.id ?? "";
  });
}

describe.skipIf(noBrowserReason !== undefined)("ending a tab's session in the terminal page", () => {
  withServerAndBrowser((started, launched) => {
    server = started;
    browser = launched;
  });

  test("asks before it kills a running shell, and keeps the session on Cancel or Escape, the keyboard where it was", async () => {
    const page = await openWithTwoTabs(server.port, server.token);
    await page.locator(".tab-close").first().click();
    const dialog = page.getByRole("alertdialog", { name: "End session 1?" });
    await dialog.waitFor({ timeout: 5_000 });
    expect(await dialog.innerText()).toContain("Its shell and whatever runs in it are killed");
    // The focus starts on what loses nothing.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(await page.locator(".tab").count()).toBe(2);
    expect(await focusedPlace(page)).toBe("pane-2");
    await typeCommand(page, "echo still-two-tabs");
    await waitForLines(page, ["^still-two-tabs$", PROMPT]);

    await page.keyboard.press("Control+Shift+L");
    await page.keyboard.press("Delete");
    await page.getByRole("alertdialog", { name: "End session 2?" }).waitFor({ timeout: 5_000 });
    await page.keyboard.press("Escape");
    await page.getByRole("alertdialog").waitFor({ state: "hidden" });
    expect(await page.locator(".tab").count()).toBe(2);
    expect(await focusedPlace(page)).toBe("tab-2");
    await page.context().close();
  }, 30_000);

  test("ends the session on End session", async () => {
    const page = await openWithTwoTabs(server.port, server.token);
    const second = await page.locator("#status").getAttribute("data-session");
    await page.locator(".tab-close").first().click();
    await page.getByRole("alertdialog").getByRole("button", { name: "End session" }).click({ timeout: 5_000 });
    await page.waitForFunction(() => document.querySelectorAll(".tab").length === 1);
    expect(await page.locator("#status").getAttribute("data-session")).toBe(second);
    expect(await focusedPlace(page)).toBe("pane-2");
    await page.context().close();
  }, 30_000);

  test("asks for a connected session whose shell has exited, and not once its server is gone", async () => {
    // Disposed by hand below to take the server down; `await using` also stops it if the test fails first.
    await using own = await startServer();
    const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${own.port}/#token=${own.token}`);
    await waitForLines(page, [PROMPT]);
    await exitShell(page);

    // The session lives on, and its workspace would go with it.
    await page.locator(".tab-close").click();
    const dialog = page.getByRole("alertdialog", { name: "End session 1?" });
    await dialog.waitFor({ timeout: 5_000 });
    expect(await dialog.innerText()).toContain("It cannot be resumed");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });

    await own[Symbol.asyncDispose]();
    await page.waitForSelector('#status[data-connection="reconnecting"]');
    await page.locator(".tab-close").click();
    // The last tab closed leaves a fresh one (number 2) behind, with no question asked.
    await page.waitForSelector("#tab-2");
    expect(await page.evaluate(() => (document.getElementById("end-session") as HTMLDialogElement).open)).toBe(false);
    expect(await page.locator(".tab").count()).toBe(1);
    await context.close();
  }, 30_000);
});
