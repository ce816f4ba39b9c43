import type { Page } from "playwright-core";
import type { Terminal } from "@xterm/xterm";

/** A shell prompt waiting for input: the cursor line ends in `$` or `#` once trimmed. */
export const PROMPT = "[$#]$";

/**
 * Runs in the page: the last `patterns.length` lines of the terminal's buffer up to and including
 * the cursor's line, right-trimmed (xterm's own trim keeps spaces a program wrote, as after a prompt), when each matches its pattern; null otherwise. Self-contained,
 * because Playwright sends it to the page as source text.
 */
function linesEndingAtCursor(patterns: string[]): string[] | null {
  const term = (window as unknown as { __bunkerTerm?: Terminal }).__bunkerTerm;
  if (!term) return null;
  const buffer = term.buffer.active;
  const cursorRow = buffer.baseY + buffer.cursorY;
  const first = cursorRow - patterns.length + 1;
  if (first < 0) return null;
  const lines: string[] = [];
  for (let row = first; row <= cursorRow; row++) lines.push((buffer.getLine(row)?.translateToString(true) ?? "").trimEnd());
  return lines.every((line, index) => new RegExp(patterns[index] ?? "").test(line)) ? lines : null;
}

/** Waits until the lines up to the cursor match `patterns` (regex sources, the last one the cursor's line), and returns them. */
export async function waitForLines(page: Page, patterns: string[], timeoutMs = 30_000): Promise<string[]> {
  const handle = await page.waitForFunction(linesEndingAtCursor, patterns, { timeout: timeoutMs, polling: "raf" });
  return (await handle.jsonValue()) as string[];
}

/** Every line of the terminal's buffer, right-trimmed. */
export function readAllLines(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const term = (window as unknown as { __bunkerTerm?: Terminal }).__bunkerTerm;
    if (!term) return [];
    const buffer = term.buffer.active;
    const lines: string[] = [];
    for (let row = 0; row < buffer.length; row++) lines.push((buffer.getLine(row)?.translateToString(true) ?? "").trimEnd());
    return lines;
  });
}

/** The terminal's width in columns. */
export function readCols(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __bunkerTerm?: Terminal }).__bunkerTerm?.cols ?? 0);
}

/** Types a command line into the terminal and presses Enter. */
export async function typeCommand(page: Page, line: string): Promise<void> {
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
}

/** Ends the tab's shell with `exit` and waits for the page to offer a new one. */
export async function exitShell(page: Page): Promise<void> {
  await typeCommand(page, "exit");
  await waitForLines(page, [escapeRegex("[bunker] shell exited with code 0; press Enter for a new shell"), "^$"]);
}

/** Escapes text for use inside a regex source. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Runs in the page: true when the terminal's buffer, wrapped rows joined, contains `text`. */
function terminalContains(text: string): boolean {
  const term = (window as unknown as { __bunkerTerm?: Terminal }).__bunkerTerm;
  if (!term) return false;
  const buffer = term.buffer.active;
  let joined = "";
  for (let row = 0; row < buffer.length; row++) {
    const line = buffer.getLine(row);
    joined += (line?.isWrapped ? "" : "\n") + (line?.translateToString(true) ?? "");
  }
  return joined.includes(text);
}

/** Waits until the terminal shows `text` anywhere, a line the terminal wrapped counting as one. */
export async function waitForText(page: Page, text: string, timeoutMs = 10_000): Promise<void> {
  await page.waitForFunction(terminalContains, text, { timeout: timeoutMs, polling: "raf" });
}
