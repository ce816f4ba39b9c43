import { describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import type { TestServer } from "../helpers/server-process.ts";
import { noBrowserReason, withServerAndBrowser } from "./browser.ts";
import { PROMPT, typeCommand, waitForLines } from "./terminal-screen.ts";

let server: TestServer;
let browser: Browser;

/** A fresh browser context at the page, with `tabs` sessions open, each at its prompt; the last one shown. */
async function openWithTabs(tabs: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${server.port}/#token=${server.token}`);
  await waitForLines(page, [PROMPT]);
  for (let count = 2; count <= tabs; count++) {
    const before = await page.locator("#status").getAttribute("data-session");
    await page.click(".tab-add");
    await page.waitForFunction(
      ([wanted, previous]) => document.querySelectorAll(".tab").length === wanted && document.getElementById("status")?.dataset["session"] !== previous,
      [count, before] as const,
    );
    await waitForLines(page, [PROMPT]);
  }
  return page;
}

/** The id of the focused element, or its class when it has none (xterm's textarea). */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return "body";
    return element.id || `.${[...element.classList].join(".")}`;
  });
}

/** Whether the keyboard is in the terminal of pane `number`. */
function terminalFocused(page: Page, number: number): Promise<boolean> {
  return page.evaluate((pane) => document.activeElement?.closest(".pane")?.id === `pane-${pane}` && document.activeElement.classList.contains("xterm-helper-textarea"), number);
}

describe.skipIf(noBrowserReason !== undefined)("the terminal page by keyboard", () => {
  withServerAndBrowser((started, launched) => {
    server = started;
    browser = launched;
  });

  test("shows the sessions as a tab list: one tab selected, in the Tab order, controlling the visible panel", async () => {
    const page = await openWithTabs(2);
    const tabs = page.getByRole("tablist", { name: "Sessions" }).getByRole("tab");
    expect(await tabs.count()).toBe(2);
    const selected = page.getByRole("tab", { selected: true });
    expect(await selected.getAttribute("id")).toBe("tab-2");
    expect(await tabs.evaluateAll((all) => all.map((tab) => (tab as HTMLElement).tabIndex))).toEqual([-1, 0]);
    // Side by side, inside the bar (the tab list's own element had stacked them, over the terminal).
    const layout = await tabs.evaluateAll((all) => {
      const bar = document.getElementById("tabs")!.getBoundingClientRect();
      return all.map((tab) => {
        const box = tab.getBoundingClientRect();
        return { top: box.top, inBar: box.top >= bar.top && box.bottom <= bar.bottom };
      });
    });
    expect(layout.map(({ inBar }) => inBar)).toEqual([true, true]);
    expect(layout[0]?.top).toBe(layout[1]?.top!);
    const panels = page.getByRole("tabpanel");
    expect(await panels.count()).toBe(1);
    expect(await panels.getAttribute("id")).toBe((await selected.getAttribute("aria-controls"))!);
    expect(await panels.getAttribute("aria-labelledby")).toBe("tab-2");
    // The way out of a terminal is told to screen readers, since Tab is the shell's.
    const description = await page.evaluate(() => {
      const id = document.querySelector(".pane.active .xterm-helper-textarea")?.getAttribute("aria-describedby");
      return id ? document.getElementById(id)?.textContent : undefined;
    });
    expect(description).toContain("Ctrl+Shift+L");
    await page.context().close();
  }, 30_000);

  test("leaves Tab to the shell, moves to the tabs with Ctrl+Shift+L, between them with the arrows, and back with Enter or Escape", async () => {
    const page = await openWithTabs(2);
    // Tab completes in bash: `ech` becomes `echo` (and a space, which bash may or may not add).
    await page.keyboard.type("ech");
    await page.keyboard.press("Tab");
    await page.keyboard.type(" tab-for-the-shell");
    await page.keyboard.press("Enter");
    await waitForLines(page, ["echo +tab-for-the-shell$", "^tab-for-the-shell$", PROMPT]);

    await page.keyboard.press("Control+Shift+L");
    expect(await focused(page)).toBe("tab-2");
    await page.keyboard.press("ArrowRight");
    expect(await focused(page)).toBe("tab-1");
    // Moving the focus shows nothing yet (manual activation): tab 2 is still the one shown.
    expect(await page.getByRole("tab", { selected: true }).getAttribute("id")).toBe("tab-2");
    await page.keyboard.press("Enter");
    await page.waitForSelector('#tab-1[aria-selected="true"]');
    expect(await terminalFocused(page, 1)).toBe(true);
    await typeCommand(page, "echo in-first-tab");
    await waitForLines(page, ["^in-first-tab$", PROMPT]);

    await page.keyboard.press("Control+Shift+L");
    expect(await focused(page)).toBe("tab-1");
    await page.keyboard.press("End");
    expect(await focused(page)).toBe("tab-2");
    await page.keyboard.press("Escape");
    expect(await terminalFocused(page, 1)).toBe(true);
    // The shortcut also leads back from the tab bar; and none of these keys reached the shell.
    await page.keyboard.press("Control+Shift+L");
    await page.keyboard.press("Tab");
    expect(await focused(page)).toBe(".tab-add");
    await page.keyboard.press("Control+Shift+L");
    expect(await terminalFocused(page, 1)).toBe(true);
    await typeCommand(page, "echo still-here");
    await waitForLines(page, ["\\$ echo still-here$", "^still-here$", PROMPT]);
    await page.context().close();
  }, 30_000);

  test("keeps the keyboard on a tab while the bar is redrawn for a change in another tab", async () => {
    const page = await openWithTabs(2);
    // The shown shell sets a title a moment later, which redraws the bar.
    await typeCommand(page, "sleep 0.5; printf '\\033]0;%s\\007' later-title");
    await page.keyboard.press("Control+Shift+L");
    await page.keyboard.press("ArrowLeft");
    expect(await focused(page)).toBe("tab-1");
    await page.waitForFunction(() => document.title === "later-title · bunker");
    expect(await focused(page)).toBe("tab-1");
    // The tab the arrows reached stays the one in the Tab order.
    expect(await page.locator("#tab-1").evaluate((tab) => (tab as HTMLElement).tabIndex)).toBe(0);
    await page.context().close();
  }, 30_000);

  test("ends the focused tab's session with Delete and moves the keyboard to the tab that follows", async () => {
    const page = await openWithTabs(3);
    const titles = () => page.locator(".tab-select").evaluateAll((all) => all.map((tab) => tab.getAttribute("title") ?? ""));
    const [first, , third] = await titles();
    await page.keyboard.press("Control+Shift+L");
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowRight");
    expect(await focused(page)).toBe("tab-2");
    await page.keyboard.press("Delete");
    // Its shell runs, so the page asks (page-end-session.test.ts); Cancel has the focus.
    await page.getByRole("alertdialog").waitFor();
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelectorAll(".tab").length === 2);
    expect(await titles()).toEqual([first!, third!]);
    expect(await focused(page)).toBe("tab-3");
    // Tab 3 stays shown; the keyboard stays in the bar until Enter.
    expect(await page.getByRole("tab", { selected: true }).getAttribute("id")).toBe("tab-3");
    await page.keyboard.press("Enter");
    expect(await terminalFocused(page, 3)).toBe(true);
    await page.context().close();
  }, 30_000);
});
