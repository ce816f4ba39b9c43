// A tab closed while the page cannot reach the server: its `close` cannot go, and the session's
// shell lived on until the server's detach TTL. The page keeps the session (sessionStorage) and
// ends it once the server is reachable again, after a reload too.
import { describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { connect } from "../helpers/client.ts";
import type { TestServer } from "../helpers/server-process.ts";
import { noBrowserReason, withServerAndBrowser } from "./browser.ts";
import { startSocketGate, type SocketGate } from "../helpers/socket-gate.ts";
import { PROMPT, waitForLines } from "./terminal-screen.ts";

let server: TestServer;
let browser: Browser;

interface Ticket {
  session: string;
  resumeSecret: string;
}

/** A page through `gate`, at its shell's prompt, and its session's ticket (the saved tab). */
async function openThrough(gate: SocketGate): Promise<{ page: Page; ticket: Ticket }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${gate.port}/#token=${server.token}`);
  await waitForLines(page, [PROMPT]);
  const saved = await page.evaluate(() => sessionStorage.getItem("bunker.tabs"));
  const [ticket] = JSON.parse(saved ?? "[]") as Ticket[];
  if (!ticket) throw new Error(`the page saved no tab: ${saved}`);
  return { page, ticket };
}

/** Cuts the page off: its socket is dropped and every new one refused, as a network that went down. */
async function cutOff(page: Page, gate: SocketGate): Promise<void> {
  gate.close();
  await page.waitForSelector('#status[data-connection="reconnecting"]');
}

/** Closes the only tab by its ×, answering End session; a fresh tab 2 takes its place. */
async function endOnlyTab(page: Page): Promise<string> {
  await page.locator(".tab-close").click();
  const dialog = page.getByRole("alertdialog", { name: "End session 1?" });
  await dialog.waitFor({ timeout: 5_000 });
  const question = await page.locator("#end-session-question").innerText();
  await dialog.getByRole("button", { name: "End session" }).click();
  await page.waitForSelector("#tab-2");
  return question;
}

/** Lets the page's sockets through again and resolves once the server has ended `session` on a `close`. */
async function reconnectAndAwaitEnd(page: Page, gate: SocketGate, session: string): Promise<void> {
  // The server closes a socket with 4000 only after `close` (an expired TTL has no socket to close).
  const ended = server.nextStderr(new RegExp(`connection\\.close .*session=${session} code=4000`));
  gate.open();
  // The browser's online event skips the backoff's wait; the test need not sit it out.
  await page.evaluate(() => window.dispatchEvent(new Event("online")));
  await ended;
}

/** Asserts that the server no longer has the session: a resume with its secret is refused. */
async function expectSessionGone(ticket: Ticket): Promise<void> {
  const refused = await connect(server, { query: { session: ticket.session }, protocols: ["bunker.v1", `bunker.resume.${ticket.resumeSecret}`], waitForHello: false });
  expect(await refused.next()).toMatchObject({ type: "error", code: "unknown_session" });
  expect((await refused.closed).code).toBe(4404);
}

describe.skipIf(noBrowserReason !== undefined)("ending a tab's session while the page is cut off from the server", () => {
  withServerAndBrowser((started, launched) => {
    server = started;
    browser = launched;
  });

  test("says the session ends once the page is connected again, and ends it then", async () => {
    await using gate = await startSocketGate(server.port);
    const { page, ticket } = await openThrough(gate);
    await cutOff(page, gate);
    expect(await endOnlyTab(page)).toBe(
      "End session 1? The page is not connected to the server: as soon as it is again, the session's shell and whatever runs in it are killed, and its workspace is deleted unless the server keeps workspaces.",
    );
    await reconnectAndAwaitEnd(page, gate, ticket.session);
    await expectSessionGone(ticket);
    // Ended, it is forgotten.
    await page.waitForFunction(() => sessionStorage.getItem("bunker.sessionsToEnd") === "[]");
    await page.context().close();
  }, 30_000);

  test("ends it through a fresh socket when the page's own socket looked open but was dead, and its close never arrived", async () => {
    await using gate = await startSocketGate(server.port);
    const { page, ticket } = await openThrough(gate);
    // The page still shows the connection open: nothing told it otherwise.
    gate.freeze();
    await page.waitForSelector('#status[data-connection="open"]');
    const ended = server.nextStderr(new RegExp(`connection\\.close .*session=${ticket.session} code=4000`));
    expect(await endOnlyTab(page)).toStartWith("End session 1? Its shell and whatever runs in it are killed");
    // Unconfirmed, the session goes to the closer, whose socket (not frozen) ends it.
    await ended;
    await expectSessionGone(ticket);
    await page.waitForFunction(() => sessionStorage.getItem("bunker.sessionsToEnd") === "[]");
    await page.context().close();
  }, 30_000);

  test("ends it after a reload while the page is still cut off", async () => {
    await using gate = await startSocketGate(server.port);
    const { page, ticket } = await openThrough(gate);
    await cutOff(page, gate);
    await endOnlyTab(page);
    await page.reload();
    await page.waitForSelector('#status[data-connection="reconnecting"]');
    await reconnectAndAwaitEnd(page, gate, ticket.session);
    await expectSessionGone(ticket);
    await page.context().close();
  }, 30_000);
});
