import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { launchChromium, noBrowserReason } from "./browser.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { ACK_WINDOW_BYTES } from "../../src/web/ack-window.ts";
import { watchOutputFlow, type OutputFlowWatch } from "./output-flow.ts";
import { PROMPT, escapeRegex, readAllLines, readCols, typeCommand, waitForLines } from "./terminal-screen.ts";
import { createPolicyViolations, watchPolicyViolations } from "./policy-violations.ts";
import { serveFramingPage } from "./framing-page.ts";

/** Screenshots land here (see docs/WEB.md); the directory is not under version control. */
const OUTPUT_DIR = join(import.meta.dir, "output");

let server: TestServer;
let browser: Browser;
let page: Page;
let flow: OutputFlowWatch;
/** Every policy violation of every page this file opens: none, says its last tests. */
const violations = createPolicyViolations();

/** Opens the page the way a user does: the address the server prints, token in the fragment. */
async function openPage(port: number, watch?: (page: Page) => void): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  await watchPolicyViolations(context, violations);
  const opened = await context.newPage();
  watch?.(opened);
  const response = await opened.goto(`http://127.0.0.1:${port}/#token=${server.token}`);
  expect(response?.status()).toBe(200);
  await waitForLines(opened, [PROMPT]);
  return opened;
}

describe.skipIf(noBrowserReason !== undefined)("the terminal page in headless Chromium", () => {
  beforeAll(async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    server = await startServer();
    browser = await launchChromium();
    page = await openPage(server.port, (opened) => (flow = watchOutputFlow(opened)));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.[Symbol.asyncDispose]();
  });

  test("moves the token from the address bar into sessionStorage", async () => {
    expect(page.url()).toBe(`http://127.0.0.1:${server.port}/`);
    expect(await page.evaluate(() => sessionStorage.getItem("bunker.token"))).toBe(server.token ?? null);
  });

  test("shows the connection state, sandbox backend, session id and host", async () => {
    const status = page.locator("#status");
    expect(await status.getAttribute("data-connection")).toBe("open");
    expect(await status.getAttribute("data-shell")).toBe("running");
    const session = await status.getAttribute("data-session");
    expect(session).toMatch(/^[A-Za-z0-9_-]+$/);
    const text = await status.innerText();
    expect(text).toMatch(/sandbox (bwrap|seatbelt|none)/);
    expect(text).toContain(`session ${session}`);
    expect(text).toMatch(/host \S+/);
  });

  test("runs echo hello-$RANDOM in the shell and shows its output", async () => {
    await typeCommand(page, "echo hello-$RANDOM");
    const [command, output] = await waitForLines(page, [`echo hello-\\$RANDOM$`, "^hello-\\d+$", PROMPT]);
    expect(command).toEndWith("echo hello-$RANDOM");
    expect(output).toMatch(/^hello-\d+$/);
  });

  test("draws underscores at a device pixel ratio of 1: the glyph falls inside its cell", async () => {
    // With a line height of 1 the cell was 16 px tall and `_` fell below it: `LC_CTYPE` read `LC CTYPE`.
    await typeCommand(page, "clear; printf '%s\\n' ________________ ----------------");
    await waitForLines(page, ["^_{16}$", "^-{16}$", PROMPT]);
    const cell = await page.evaluate(() => {
      const screen = document.querySelector(".pane.active .xterm-screen")!.getBoundingClientRect();
      const term = (window as unknown as { __bunkerTerm: { rows: number; cols: number } }).__bunkerTerm;
      return { x: screen.x, y: screen.y, width: screen.width / term.cols, height: screen.height / term.rows };
    });
    const litPixels = async (row: number) => {
      const shot = await page.screenshot({ clip: { x: cell.x, y: cell.y + row * cell.height, width: cell.width * 16, height: cell.height } });
      return page.evaluate(async (base64) => {
        const image = new Image();
        image.src = `data:image/png;base64,${base64}`;
        await image.decode();
        const canvas = Object.assign(document.createElement("canvas"), { width: image.width, height: image.height });
        const context = canvas.getContext("2d")!;
        context.drawImage(image, 0, 0);
        const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let lit = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i]! + data[i + 1]! + data[i + 2]! > 200) lit++;
        return lit;
      }, shot.toString("base64"));
    };
    const [underscores, dashes] = [await litPixels(0), await litPixels(1)];
    // Sixteen underscores light at least about as much as sixteen dashes.
    expect({ underscoresLit: underscores >= dashes / 2, dashes: dashes > 0 }).toEqual({ underscoresLit: true, dashes: true });
  });

  test("shows 200000 as the last line of seq 1 200000", async () => {
    await typeCommand(page, "seq 1 200000");
    const lines = await waitForLines(page, ["^199999$", "^200000$", PROMPT], 60_000);
    expect(lines.slice(0, 2)).toEqual(["199999", "200000"]);
    await page.screenshot({ path: join(OUTPUT_DIR, "seq.png") });
  }, 90_000);

  test("follows a viewport resize: tput cols reports the terminal's new width", async () => {
    const colsBefore = await readCols(page);
    await typeCommand(page, "tput cols");
    await waitForLines(page, ["tput cols$", `^${colsBefore}$`, PROMPT]);

    await page.setViewportSize({ width: 640, height: 480 });
    await page.waitForFunction((before) => {
      const term = (window as unknown as { __bunkerTerm?: { cols: number } }).__bunkerTerm;
      return term !== undefined && term.cols !== before;
    }, colsBefore);
    const colsAfter = await readCols(page);
    expect(colsAfter).toBeLessThan(colsBefore);

    await typeCommand(page, "tput cols");
    const [, reported] = await waitForLines(page, ["tput cols$", `^${colsAfter}$`, PROMPT]);
    expect(Number(reported)).toBe(colsAfter);
    await page.screenshot({ path: join(OUTPUT_DIR, "resized.png") });
  });

  test("interrupts a running command with Ctrl-C", async () => {
    await typeCommand(page, "sleep 100");
    await waitForLines(page, ["sleep 100$", "^$"]);
    await page.keyboard.press("Control+C");
    await waitForLines(page, ["sleep 100$", "^\\^C$", PROMPT]);
  });

  test("keeps yes within the ack window, acking what xterm rendered, and stops it with Ctrl-C", async () => {
    await typeCommand(page, "yes");
    // xterm renders `y\r\n` lines at a few MB/s on a small machine: 4 MiB is eight windows and a few seconds.
    const renderedBytes = 4 * 1024 * 1024;
    const id = await flow.waitForAck(renderedBytes);
    await page.keyboard.press("Control+C");
    await waitForLines(page, ["\\^C$", PROMPT], 60_000);
    const seen = flow.flow(id);
    expect(seen?.receivedEnd).toBeGreaterThan(renderedBytes);
    expect(seen?.maxUnacked).toBeLessThanOrEqual(ACK_WINDOW_BYTES);
  }, 90_000);

  test("shows the exit code when the shell exits and starts a new shell on Enter", async () => {
    await typeCommand(page, "exit 3");
    await waitForLines(page, [escapeRegex("[bunker] shell exited with code 3; press Enter for a new shell"), "^$"]);
    expect(await page.locator("#status").getAttribute("data-shell")).toBe("exited");
    await page.keyboard.press("Enter");
    await waitForLines(page, [PROMPT]);
    expect(await page.locator("#status").getAttribute("data-shell")).toBe("running");
  });

  test("opens a second tab with a session of its own, switches back, and ends the second", async () => {
    const status = page.locator("#status");
    const first = await status.getAttribute("data-session");
    await page.click(".tab-add");
    await page.waitForFunction((firstSession) => {
      const shown = document.getElementById("status")?.dataset;
      return shown?.["connection"] === "open" && shown["shell"] === "running" && shown["session"] !== firstSession;
    }, first);
    await waitForLines(page, [PROMPT]);
    await typeCommand(page, "echo in-second-tab");
    await waitForLines(page, ["^in-second-tab$", PROMPT]);

    await page.locator(".tab-select").first().click();
    await page.waitForSelector(`#status[data-session="${first}"]`);
    expect(await readAllLines(page)).not.toContain("in-second-tab");
    await page.locator(".tab-close").nth(1).click();
    // Its shell runs: the page asks first.
    await page.getByRole("alertdialog").getByRole("button", { name: "End session" }).click();
    await page.waitForFunction(() => document.querySelectorAll(".tab").length === 1);
    expect(await status.getAttribute("data-session")).toBe(first);
    // Closing a tab in the background leaves the keyboard with the terminal that is shown.
    await typeCommand(page, "echo typed-after-close");
    await waitForLines(page, ["^typed-after-close$", PROMPT]);
  });

  test("shows the title a program sets (OSC 0) in the window title, as ttyd does", async () => {
    await typeCommand(page, "printf '\\033]0;%s\\007' build-title");
    await page.waitForFunction(() => document.title === "build-title · bunker");
    await typeCommand(page, "printf '\\033]0;\\007'");
    await page.waitForFunction(() => document.title.startsWith("bunker · "));
  });

  test("resumes its session after a network drop and shows the shell's output exactly once", async () => {
    await using proxy = await startTcpProxy(server.port);
    const dropped = await openPage(proxy.port);
    const status = dropped.locator("#status");
    const session = await status.getAttribute("data-session");

    await typeCommand(dropped, "sleep 1; seq 1 3000");
    proxy.dropAll();
    await dropped.waitForSelector('#status[data-connection="reconnecting"]');
    await dropped.waitForSelector('#status[data-connection="open"]');
    expect(await status.getAttribute("data-session")).toBe(session);

    await waitForLines(dropped, ["^2999$", "^3000$", PROMPT]);
    const lines = await readAllLines(dropped);
    const commandRow = lines.findIndex((line) => line.endsWith("sleep 1; seq 1 3000"));
    const printed = lines.slice(commandRow + 1, commandRow + 3001);
    expect(printed).toEqual(Array.from({ length: 3000 }, (_, index) => String(index + 1)));
    expect(lines.some((line) => line.includes("could not be resumed"))).toBe(false);

    await typeCommand(dropped, "echo after-drop");
    await waitForLines(dropped, ["echo after-drop$", "^after-drop$", PROMPT]);
    await dropped.context().close();
  });

  test("notices a connection that went silent without a close (a frozen relay) and starts reconnecting", async () => {
    await using proxy = await startTcpProxy(server.port);
    // The page's timers run on Playwright's clock, so its keepalive's 25 s pass at once.
    const frozen = await openPage(proxy.port, (opened) => void opened.clock.install());
    proxy.freeze();
    // Nothing arrives and no close comes: without the keepalive the page says "open" for good.
    expect(await frozen.locator("#status").getAttribute("data-connection")).toBe("open");
    await frozen.clock.runFor(30_000);
    // Given up on, and trying again (through the frozen relay, so not back yet).
    expect(["reconnecting", "connecting"]).toContain((await frozen.locator("#status").getAttribute("data-connection"))!);
    await frozen.context().close();
  });

  // Last, so that it covers everything the tests above did: connecting, output of every kind, a
  // second tab, the End session dialog (a form), drops and resumes.
  test("reports no policy violation (Content-Security-Policy, Trusted Types, Permissions-Policy), 24-bit colour (xterm's style attributes) included", async () => {
    await typeCommand(page, "printf '\\033[38;2;255;80;0m%s\\033[0m \\033[1;32m%s\\033[0m\\n' truecolour green");
    await waitForLines(page, ["^truecolour green$", PROMPT]);
    const colour = await page.evaluate(() => [...document.querySelectorAll(".pane.active .xterm-rows span")].find((span) => span.textContent === "truecolour")?.getAttribute("style"));
    expect(colour).toContain("color: rgb(255, 80, 0)");
    expect(violations.lines).toEqual([]);
  });

  test("refuses to show in a frame of another site's page (clickjacking)", async () => {
    await using framer = serveFramingPage(`http://127.0.0.1:${server.port}/#token=${server.token}`);
    const context = await browser.newContext();
    const refusals = createPolicyViolations();
    await watchPolicyViolations(context, refusals);
    const refused = refusals.next(/frame-ancestors 'none'/);
    const framing = await context.newPage();
    await framing.goto(framer.url);
    // The frame comes to hold the browser's error page, not the page's markup. The framing page's
    // load may come before the frame's error page is in (its URL was still "" once, in CI): waited for.
    const frame = framing.frames().find((each) => each !== framing.mainFrame());
    await frame?.waitForURL("chrome-error://chromewebdata/");
    expect({ url: frame?.url(), page: await frame?.evaluate(() => document.getElementById("panes") !== null) }).toEqual({ url: "chrome-error://chromewebdata/", page: false });
    expect(await refused).toBe(
      `console error: Framing 'http://127.0.0.1:${server.port}/' violates the following Content Security Policy directive: "frame-ancestors 'none'". The request has been blocked.\n`,
    );
    await context.close();
  });
});
