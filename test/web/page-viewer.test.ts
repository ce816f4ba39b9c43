// A tab shares a read-only link to its shell (#view=<session>.<viewSecret>.<exec>); the page opened
// with it joins as a viewer, without the token: it replays and follows the shell, and sends nothing
// that could reach it.
import { describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { TestServer } from "../helpers/server-process.ts";
import { startSocketGate } from "../helpers/socket-gate.ts";
import { noBrowserReason, withServerAndBrowser } from "./browser.ts";
import { PROMPT, escapeRegex, readAllLines, typeCommand, waitForLines, waitForText } from "./terminal-screen.ts";
import { createPolicyViolations, watchPolicyViolations } from "./policy-violations.ts";
import { openClipboardReader } from "./clipboard-reader.ts";

let server: TestServer;
let browser: Browser;
/** Every policy violation of the sharing pages and the viewers: none, says the last test. */
const violations = createPolicyViolations();

/** A browser context whose pages' policy violations are recorded. */
async function newContext(viewport: { width: number; height: number }): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport });
  await watchPolicyViolations(context, violations);
  return context;
}

/**
 * A page with the token, at its shell's prompt, allowed to write to the clipboard (it never reads
 * it); `prepare` sees its context before the page opens.
 */
async function openSharer(prepare?: (context: BrowserContext) => Promise<unknown>): Promise<Page> {
  const context = await newContext({ width: 1000, height: 600 });
  await context.grantPermissions(["clipboard-write"], { origin: `http://127.0.0.1:${server.port}` });
  await prepare?.(context);
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${server.port}/#token=${server.token}`);
  await waitForLines(page, [PROMPT]);
  return page;
}

/** Presses Share read-only link by keyboard, and returns the link from the clipboard (the panel's field says the same). */
async function shareLink(page: Page): Promise<string> {
  const button = page.locator("#status").getByRole("button", { name: "Share read-only link" });
  await button.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector('#share:is([data-copied="true"], [data-copied="false"])');
  expect(await page.locator("#share").getAttribute("data-copied")).toBe("true");
  const shown = await page.locator("#share-link").inputValue();
  await using clipboard = await openClipboardReader(page.context());
  expect(await clipboard.waitFor(shown)).toBe(shown);
  expect(await page.locator("#share-message").innerText()).toContain("Whoever opens it can watch everything this session prints");
  // Escape closes the panel and gives the keyboard back to the terminal.
  await page.keyboard.press("Escape");
  expect(await page.locator("#share").isHidden()).toBe(true);
  return shown;
}

/** A fresh browser context (no token in it) at `url`; `watch` sees the page before it loads. */
async function openViewer(url: string, watch?: (page: Page) => void): Promise<Page> {
  const context = await newContext({ width: 1000, height: 600 });
  const page = await context.newPage();
  watch?.(page);
  await page.goto(url);
  return page;
}

/** The JSON messages a page sends on its WebSockets, as they go. */
function watchSent(page: Page): unknown[] {
  const sent: unknown[] = [];
  page.on("websocket", (socket) => socket.on("framesent", (frame) => sent.push(typeof frame.payload === "string" ? JSON.parse(frame.payload) : frame.payload)));
  return sent;
}

/** How many of the terminal's lines equal `line` (right-trimmed). */
async function countLines(page: Page, line: string): Promise<number> {
  return (await readAllLines(page)).filter((each) => each === line).length;
}

describe.skipIf(noBrowserReason !== undefined)("a read-only link to a tab's shell", () => {
  withServerAndBrowser((started, launched) => {
    server = started;
    browser = launched;
  });

  test("shows the shell's earlier output, then what the first page types, live, on a page without the token", async () => {
    const sharer = await openSharer();
    await typeCommand(sharer, "echo before-$((6*7))");
    await waitForLines(sharer, ["^before-42$", PROMPT]);
    const link = await shareLink(sharer);
    const session = await sharer.locator("#status").getAttribute("data-session");
    expect(link).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/#view=${escapeRegex(session ?? "?")}\\.[A-Za-z0-9_-]{32}\\.shell-[a-z0-9]+$`));

    const asked: string[] = [];
    const viewer = await openViewer(link, (page) => {
      page.on("request", (request) => asked.push(request.url(), request.headers()["referer"] ?? ""));
      page.on("websocket", (socket) => asked.push(socket.url()));
    });
    await waitForText(viewer, "before-42");
    // The fragment leaves the address bar, as the token's does.
    expect(viewer.url()).toBe(`http://127.0.0.1:${server.port}/`);
    await viewer.waitForSelector('#status[data-connection="open"][data-shell="running"]');
    expect(await viewer.locator("#status").innerText()).toContain("viewing read-only");
    expect(await viewer.evaluate(() => sessionStorage.getItem("bunker.token"))).toBeNull();
    // The view secret is in no URL the page asked for, nor in a Referer: only the session id is.
    const viewSecret = link.split(".").at(-2) ?? "?";
    expect(asked).toContain(`ws://127.0.0.1:${server.port}/ws?session=${session}`);
    expect(asked.filter((url) => url.includes(viewSecret))).toEqual([]);
    // A viewer offers nothing to share and no tabs to open.
    expect(await viewer.getByRole("button", { name: "Share read-only link" }).count()).toBe(0);
    expect(await viewer.locator(".tab-add").count()).toBe(0);

    await typeCommand(sharer, "echo live-$((7*8))");
    await waitForText(viewer, "live-56");
    // A reload goes on viewing (the link is kept for the browser tab, as the token is).
    await viewer.reload();
    await waitForText(viewer, "live-56");
    await viewer.waitForSelector('#status[data-connection="open"]');
    await sharer.context().close();
    await viewer.context().close();
  }, 30_000);

  test("draws the shell at the shell's terminal size, whatever its own window, and follows the sharer's resizes", async () => {
    const sharer = await openSharer();
    const link = await shareLink(sharer);
    const context = await newContext({ width: 1400, height: 800 });
    const viewer = await context.newPage();
    await viewer.goto(link);
    await viewer.waitForSelector('#status[data-connection="open"][data-shell="running"]');
    const sizeOf = (page: Page) => page.evaluate(() => {
      const term = (window as unknown as { __bunkerTerm: { cols: number; rows: number } }).__bunkerTerm;
      return `${term.rows} ${term.cols}`;
    });
    const sharerSize = await sizeOf(sharer);
    // A wider window than the sharer's: fitted to it, the viewer would have more columns.
    expect(await sizeOf(viewer)).toBe(sharerSize);
    await sharer.setViewportSize({ width: 700, height: 420 });
    await sharer.waitForFunction((before) => {
      const term = (window as unknown as { __bunkerTerm: { cols: number; rows: number } }).__bunkerTerm;
      return `${term.rows} ${term.cols}` !== before;
    }, sharerSize);
    const resized = await sizeOf(sharer);
    await viewer.waitForFunction((wanted) => {
      const term = (window as unknown as { __bunkerTerm: { cols: number; rows: number } }).__bunkerTerm;
      return `${term.rows} ${term.cols}` === wanted;
    }, resized);
    // After a reload it learns the size from its hello (ExecInfo.size).
    await viewer.reload();
    await viewer.waitForSelector('#status[data-connection="open"][data-shell="running"]');
    expect(await sizeOf(viewer)).toBe(resized);
    await sharer.context().close();
    await context.close();
  }, 30_000);

  test("in a window smaller than the shell's terminal, keeps its bars in view and scrolls the terminal to its newest line", async () => {
    const sharer = await openSharer();
    const link = await shareLink(sharer);
    const context = await newContext({ width: 420, height: 300 });
    const viewer = await context.newPage();
    await viewer.goto(link);
    await viewer.waitForSelector('#status[data-connection="open"][data-shell="running"]');
    await typeCommand(sharer, "seq 1 60");
    // The line 60 itself, not the command line that holds it.
    await viewer.waitForFunction(() => [...document.querySelectorAll(".pane.active .xterm-rows > div")].some((row) => row.textContent?.trim() === "60"));
    const seen = await viewer.evaluate(() => {
      const pane = document.querySelector(".pane.active")!.getBoundingClientRect();
      const status = document.querySelector("#status")!.getBoundingClientRect();
      const rows = [...document.querySelectorAll(".pane.active .xterm-rows > div")];
      const last = rows.find((row) => row.textContent?.trim() === "60")?.getBoundingClientRect();
      return { status: { top: status.top, bottom: status.bottom }, pane: { top: pane.top, bottom: pane.bottom }, last: last && { top: last.top, bottom: last.bottom }, height: window.innerHeight };
    });
    // The status bar is on the screen, below the pane, not painted over by the terminal.
    expect(seen.status.bottom).toBeLessThanOrEqual(seen.height);
    expect(seen.pane.bottom).toBeLessThanOrEqual(seen.status.top);
    // The newest output is within the pane's visible part.
    expect(seen.last).toBeDefined();
    expect(seen.last!.top).toBeGreaterThanOrEqual(seen.pane.top);
    expect(seen.last!.bottom).toBeLessThanOrEqual(seen.pane.bottom + 1);
    await sharer.context().close();
    await context.close();
  }, 30_000);

  test("cannot type: its keys reach neither the server nor the shell", async () => {
    const sharer = await openSharer();
    const link = await shareLink(sharer);
    let sent: unknown[] = [];
    const viewer = await openViewer(link, (page) => (sent = watchSent(page)));
    await viewer.waitForSelector('#status[data-connection="open"][data-shell="running"]');
    await viewer.locator(".xterm").click();
    await typeCommand(viewer, "echo typed-in-viewer");
    await viewer.keyboard.press("Control+C");
    await viewer.keyboard.press("Control+D");

    // Output after the keys, in both pages: the viewer's keys, had they gone, came first.
    await typeCommand(sharer, "echo sharer-after-$((2*3))");
    await waitForLines(sharer, ["^sharer-after-6$", PROMPT]);
    await waitForText(viewer, "sharer-after-6");
    for (const page of [sharer, viewer]) expect((await readAllLines(page)).join("\n")).not.toContain("typed-in-viewer");
    const types = sent.map((message) => (message as { type?: string }).type);
    expect(types).toContain("attach");
    expect(types.filter((type) => !["attach", "ack", "ping", "detach"].includes(type ?? ""))).toEqual([]);
    await sharer.context().close();
    await viewer.context().close();
  }, 30_000);

  test("survives a dropped socket and goes on without showing anything twice", async () => {
    await using gate = await startSocketGate(server.port);
    const sharer = await openSharer();
    await typeCommand(sharer, "echo first-$((1+1))");
    await waitForLines(sharer, ["^first-2$", PROMPT]);
    const link = (await shareLink(sharer)).replace(`:${server.port}/`, `:${gate.port}/`);
    const viewer = await openViewer(link);
    await waitForText(viewer, "first-2");
    await viewer.waitForSelector('#status[data-connection="open"]');

    gate.close();
    await viewer.waitForSelector('#status[data-connection="reconnecting"]');
    await typeCommand(sharer, "echo during-$((2+2))");
    await waitForLines(sharer, ["^during-4$", PROMPT]);
    gate.open();
    await viewer.evaluate(() => window.dispatchEvent(new Event("online")));
    await waitForText(viewer, "during-4");
    await viewer.waitForSelector('#status[data-connection="open"]');
    await typeCommand(sharer, "echo after-$((3+3))");
    await waitForText(viewer, "after-6");

    for (const line of ["first-2", "during-4", "after-6"]) expect(await countLines(viewer, line)).toBe(1);
    const lines = await readAllLines(viewer);
    for (const command of ["echo first-", "echo during-", "echo after-"]) expect(lines.filter((line) => line.includes(command)).length).toBe(1);
    await sharer.context().close();
    await viewer.context().close();
  }, 30_000);

  test("shows the shell's exit, follows the tab's new shell, and says when the session ends", async () => {
    const sharer = await openSharer();
    const viewer = await openViewer(await shareLink(sharer));
    await viewer.waitForSelector('#status[data-connection="open"][data-shell="running"]');
    await typeCommand(sharer, "exit");
    await waitForText(viewer, "[bunker] shell exited with code 0");
    await viewer.waitForSelector('#status[data-shell="exited"]');
    // The viewer offers no New shell: it cannot start one.
    expect(await viewer.getByRole("button", { name: "New shell" }).count()).toBe(0);

    await sharer.keyboard.press("Enter");
    await waitForLines(sharer, [PROMPT]);
    await waitForText(viewer, "[bunker] following the session's new shell");
    await typeCommand(sharer, "echo second-shell-$((5*5))");
    await waitForText(viewer, "second-shell-25");

    await sharer.locator(".tab-close").click();
    await sharer.getByRole("alertdialog").getByRole("button", { name: "End session" }).click();
    await waitForText(viewer, "[bunker] session ended");
    await viewer.waitForSelector('#status[data-connection="closed"]');
    await sharer.context().close();
    await viewer.context().close();
  }, 30_000);

  // execCommand("copy") is refused outside a click or keystroke, and by some browsers' settings: the
  // page then copies through the Clipboard API, which its Permissions-Policy leaves it
  // (clipboard-write=(self)); clipboard-write=() failed here.
  test("copies the link through the Clipboard API where the browser refuses execCommand(\"copy\")", async () => {
    const sharer = await openSharer((context) => context.addInitScript(() => void (document.execCommand = () => false)));
    const link = await shareLink(sharer);
    expect(link).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/#view=[^.]+\\.[^.]+\\.shell-[a-z0-9]+$`));
    await sharer.context().close();
  });

  test("shows the link in a selected field, saying so, when the browser refuses the clipboard", async () => {
    const context = await newContext({ width: 1000, height: 600 });
    // A browser that refuses both ways of copying (a setting, or a page that is not a secure context).
    await context.addInitScript(() => {
      document.execCommand = () => false;
      Object.defineProperty(navigator, "clipboard", { value: { writeText: () => Promise.reject(new DOMException("refused", "NotAllowedError")) } });
    });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${server.port}/#token=${server.token}`);
    await waitForLines(page, [PROMPT]);
    await page.locator("#status").getByRole("button", { name: "Share read-only link" }).click();
    await page.waitForSelector('#share[data-copied="false"]');
    expect(await page.locator("#share-message").innerText()).toStartWith("The browser did not let the page use the clipboard: copy the link from this field.");
    const shown = await page.locator("#share-link").inputValue();
    expect(shown).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/#view=[^.]+\\.[^.]+\\.shell-[a-z0-9]+$`));
    // Focused and selected: Ctrl+C (or the context menu) copies it by hand.
    expect(await page.evaluate(() => {
      const field = document.activeElement as HTMLInputElement | null;
      return field?.id === "share-link" && field.selectionStart === 0 && field.selectionEnd === field.value.length;
    })).toBe(true);
    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.locator("#share").isHidden()).toBe(true);
    await context.close();
  }, 30_000);

  test("says that a wrong link names no session, and that a garbled one cannot be read", async () => {
    const sharer = await openSharer();
    const link = await shareLink(sharer);
    const wrongSecret = link.replace(/\.([A-Za-z0-9_-]{32})\./, (_, secret: string) => `.${secret.slice(1)}x.`);
    for (const url of [wrongSecret, `http://127.0.0.1:${server.port}/#view=NoSuchSession.${"s".repeat(32)}.shell-1`]) {
      const viewer = await openViewer(url);
      await waitForText(viewer, "[bunker] this read-only link is wrong or has expired");
      await viewer.waitForSelector('#status[data-connection="closed"]');
      await viewer.context().close();
    }
    const garbled = await openViewer(`http://127.0.0.1:${server.port}/#view=only-one-part`);
    await garbled.getByRole("alert").filter({ hasText: "this read-only link is malformed" }).waitFor();
    expect(await garbled.locator("#status").getAttribute("data-connection")).toBe("closed");
    await sharer.context().close();
    await garbled.context().close();
  }, 30_000);

  // Last, so that it covers every sharing page and viewer above (the same page, with its policy).
  test("reports no policy violation on the sharing pages or the viewers", () => {
    expect(violations.lines).toEqual([]);
  });
});
