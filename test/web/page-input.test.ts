import { describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Terminal } from "@xterm/xterm";
import type { TestServer } from "../helpers/server-process.ts";
import { noBrowserReason, withServerAndBrowser } from "./browser.ts";
import { PROMPT, escapeRegex, readCols, typeCommand, waitForLines } from "./terminal-screen.ts";
import { openClipboardReader } from "./clipboard-reader.ts";
import { createPolicyViolations, watchPolicyViolations } from "./policy-violations.ts";

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
/** Every policy violation of the pages this file opens: none, says its last test. */
const violations = createPolicyViolations();

/** A page of its own in the shared context (sessionStorage is per page), at its first prompt. */
async function openPage(): Promise<Page> {
  const opened = await context.newPage();
  await opened.goto(`http://127.0.0.1:${server.port}/#token=${server.token}`);
  await waitForLines(opened, [PROMPT]);
  return opened;
}

/** The cell at (column, row of the viewport) of the shown terminal, as xterm.js holds it. */
function readCell(target: Page, column: number, rowsAboveCursor: number): Promise<{ chars: string; width: number; fg: number; fgRGB: boolean; fgPalette: boolean }> {
  return target.evaluate(
    ([x, above]) => {
      const term = (window as unknown as { __bunkerTerm: Terminal }).__bunkerTerm;
      const buffer = term.buffer.active;
      const cell = buffer.getLine(buffer.baseY + buffer.cursorY - above)?.getCell(x);
      if (!cell) throw new Error(`no cell at ${x}`);
      return { chars: cell.getChars(), width: cell.getWidth(), fg: cell.getFgColor(), fgRGB: cell.isFgRGB(), fgPalette: cell.isFgPalette() };
    },
    [column, rowsAboveCursor] as const,
  );
}

/** The page's pixel position of the middle of a cell of the viewport. */
async function cellCentre(target: Page, column: number, viewportRow: number): Promise<{ x: number; y: number }> {
  const box = await target.locator(".pane.active .xterm-screen").boundingBox();
  if (!box) throw new Error("the terminal has no screen");
  const size = await target.evaluate(() => {
    const term = (window as unknown as { __bunkerTerm: Terminal }).__bunkerTerm;
    return { cols: term.cols, rows: term.rows };
  });
  return { x: box.x + ((column + 0.5) * box.width) / size.cols, y: box.y + ((viewportRow + 0.5) * box.height) / size.rows };
}

/** Puts `text` on the clipboard from the terminal page, which may write it (clipboard-write) though not read it. */
const writeClipboard = (target: Page, text: string) => target.evaluate((value) => navigator.clipboard.writeText(value), text);

describe.skipIf(noBrowserReason !== undefined)("typing, Unicode and the clipboard in the terminal page", () => {
  withServerAndBrowser(async (started, launched) => {
    server = started;
    browser = launched;
    context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
    await watchPolicyViolations(context, violations);
    // Writing only: the page never reads the clipboard (a paste is the browser's paste event).
    await context.grantPermissions(["clipboard-write"], { origin: `http://127.0.0.1:${server.port}` });
  });

  test("echoes CJK, emoji and combining marks typed in, and keeps 256-colour and truecolor attributes", async () => {
    const page = await openPage();
    await typeCommand(page, "echo 日本語 🎉 é");
    await waitForLines(page, ["echo 日本語 🎉 é$", "^日本語 🎉 é$", PROMPT]);
    await typeCommand(page, String.raw`printf '\e[38;5;196mR\e[0m \e[38;2;10;200;30mT\e[0m\n'`);
    await waitForLines(page, ["^R T$", PROMPT]);
    expect(await readCell(page, 0, 1)).toMatchObject({ chars: "R", fg: 196, fgPalette: true });
    expect(await readCell(page, 2, 1)).toMatchObject({ chars: "T", fg: (10 << 16) | (200 << 8) | 30, fgRGB: true });
    await page.close();
  }, 30_000);

  test("reports the new rows and columns in stty size after the window is resized", async () => {
    const resized = await openPage();
    const colsBefore = await readCols(resized);
    await resized.setViewportSize({ width: 700, height: 420 });
    await resized.waitForFunction((before) => (window as unknown as { __bunkerTerm: Terminal }).__bunkerTerm.cols !== before, colsBefore);
    const size = await resized.evaluate(() => {
      const term = (window as unknown as { __bunkerTerm: Terminal }).__bunkerTerm;
      return `${term.rows} ${term.cols}`;
    });
    await typeCommand(resized, "stty size");
    await waitForLines(resized, ["stty size$", `^${size}$`, PROMPT]);
    await resized.close();
  }, 30_000);

  // Bug: xterm.js counts emoji with its Unicode 6 tables (one cell), bash and vim with glibc's
  // wcwidth (two). Home then moved the cursor four cells too far left: "X" landed in the prompt.
  test("gives an emoji two cells, as bash counts it, so editing a line with emoji keeps the cursor on the text", async () => {
    const edited = await openPage();
    await edited.keyboard.type("echo 🎉🎉🎉🎉 end");
    await edited.keyboard.press("Home");
    await edited.keyboard.type("X");
    const [line] = await waitForLines(edited, ["Xecho 🎉🎉🎉🎉 end$"], 5_000);
    expect(line).toMatch(/[$#] Xecho 🎉🎉🎉🎉 end$/);
    await edited.keyboard.press("Control+C");
    await waitForLines(edited, [PROMPT]);
    await typeCommand(edited, "printf '🎉|\\n'");
    await waitForLines(edited, ["^🎉\\|$", PROMPT]);
    expect(await readCell(edited, 0, 1)).toMatchObject({ chars: "🎉", width: 2 });
    await edited.close();
  }, 30_000);

  // Bug: xterm.js copies only through the context menu (or Cmd+C on macOS); a selection made with
  // the mouse never reached the clipboard, and Ctrl+Shift+C did nothing.
  test("copies text selected with the mouse, as ttyd does", async () => {
    const page = await openPage();
    await using clipboard = await openClipboardReader(context);
    await typeCommand(page, "echo copy-me-please");
    await waitForLines(page, ["^copy-me-please$", PROMPT]);
    await writeClipboard(page, "before");
    const row = await page.evaluate(() => (window as unknown as { __bunkerTerm: Terminal }).__bunkerTerm.buffer.active.cursorY - 1);
    const start = await cellCentre(page, 0, row);
    const end = await cellCentre(page, 13, row);
    await page.mouse.move(start.x - 3, start.y);
    await page.mouse.down();
    await page.mouse.move(end.x + 3, end.y, { steps: 5 });
    await page.mouse.up();
    expect(await page.evaluate(() => (window as unknown as { __bunkerTerm: Terminal }).__bunkerTerm.getSelection())).toBe("copy-me-please");
    expect(await clipboard.waitFor("copy-me-please")).toBe("copy-me-please");
    await page.close();
  }, 30_000);

  test("copies the selection with Ctrl+Shift+C without interrupting, and pastes with Ctrl+Shift+V", async () => {
    const page = await openPage();
    await using clipboard = await openClipboardReader(context);
    await typeCommand(page, "echo shortcut-copy");
    await waitForLines(page, ["^shortcut-copy$", PROMPT]);
    await page.evaluate(() => {
      const term = (window as unknown as { __bunkerTerm: Terminal }).__bunkerTerm;
      const buffer = term.buffer.active;
      term.select(0, buffer.baseY + buffer.cursorY - 1, "shortcut-copy".length);
    });
    await clipboard.waitFor("shortcut-copy");
    await writeClipboard(page, "before");
    await page.keyboard.press("Control+Shift+C");
    expect(await clipboard.waitFor("shortcut-copy")).toBe("shortcut-copy");
    await writeClipboard(page, "echo pasted-$((6*7))");
    await page.keyboard.press("Control+Shift+V");
    await page.keyboard.press("Enter");
    await waitForLines(page, [escapeRegex("echo pasted-$((6*7))") + "$", "^pasted-42$", PROMPT]);
    await page.close();
  }, 30_000);

  // A paste over the 8 MiB the server holds for a program that has not read it once lost its middle
  // (limit_exceeded); the page now paces its stdin by the server's stdin.ack.
  for (const [label, lines] of [
    ["1 MB", 16_000],
    ["10 MB, past the server's bound on unread stdin,", 160_000],
  ] as const) {
    test(`pastes a ${label} block into cat byte for byte`, async () => {
      const page = await openPage();
      const block = Array.from({ length: lines }, (_, index) => `line ${index} ${"abcdefghij".repeat(5)}`).join("\n") + "\n";
      // Paste once cat reads: a paste that overtakes the Enter reaches readline, not cat.
      await typeCommand(page, "stty -echo; echo reading; cat > pasted.txt; stty echo");
      await waitForLines(page, ["^reading$", "^$"]);
      await page.evaluate((text) => (window as unknown as { __bunkerTerm: Terminal }).__bunkerTerm.paste(text), block);
      await page.keyboard.press("Control+D");
      await waitForLines(page, [PROMPT], 150_000);
      await typeCommand(page, "sha256sum < pasted.txt");
      const expected = new Bun.CryptoHasher("sha256").update(block).digest("hex");
      await waitForLines(page, [`^${expected}  -$`, PROMPT], 30_000);
      await page.close();
    }, 180_000);
  }

  // Bug: clicking the button moved the focus to it, and the button went away with the next render:
  // what the user typed next reached nothing.
  test("sends what is typed after the New shell button to the new shell", async () => {
    const exited = await openPage();
    await typeCommand(exited, "exit 5");
    await waitForLines(exited, [escapeRegex("[bunker] shell exited with code 5; press Enter for a new shell"), "^$"]);
    await exited.click("#status button");
    await waitForLines(exited, [PROMPT]);
    await typeCommand(exited, "echo typed-after-button");
    await waitForLines(exited, ["echo typed-after-button$", "^typed-after-button$", PROMPT], 5_000);
    await exited.close();
  }, 30_000);

  // Bug: a reload replays the shell's output into a new terminal, and xterm.js answered the queries
  // in it (here DA1, `ESC [ c`) a second time: the answers were typed at the live prompt.
  test("replays a reloaded tab without typing the terminal's answers to old queries into the shell", async () => {
    const reloaded = await openPage();
    await typeCommand(reloaded, String.raw`printf '\e[c'; read -rs -d c; echo answered`);
    await waitForLines(reloaded, ["^answered$", PROMPT]);
    await reloaded.reload();
    await waitForLines(reloaded, ["^answered$", PROMPT], 10_000);
    await typeCommand(reloaded, "echo after-reload");
    const [command] = await waitForLines(reloaded, ["echo after-reload$", "^after-reload$", PROMPT], 10_000);
    expect(command).toMatch(/[$#] echo after-reload$/);
    await reloaded.close();
  }, 30_000);

  // Bug: while the replay of a reloaded flood was rendered (up to two seconds), every key was
  // dropped, Ctrl-C with them: one press right after a reload was lost and the flood went on.
  test("a single Ctrl-C pressed while a reloaded flood is still replaying stops it", async () => {
    const flooded = await openPage();
    await typeCommand(flooded, "yes flood-line");
    await waitForLines(flooded, ["^flood-line$"]);
    await flooded.reload();
    // As soon as the terminal shows the first replayed line, before the replay is over.
    await flooded.waitForFunction(() => (window as unknown as { __bunkerTerm?: Terminal }).__bunkerTerm?.buffer.active.getLine(0)?.translateToString(true) === "flood-line");
    await flooded.keyboard.press("Control+C");
    await waitForLines(flooded, ["\\^C$", PROMPT], 20_000);
    await flooded.close();
  }, 60_000);

  // Last, so that it covers everything above: typing, copying (the Clipboard API's writeText
  // included, which clipboard-write=(self) keeps) and pasting under the page's policies.
  test("reports no policy violation", () => {
    expect(violations.lines).toEqual([]);
  });
});
