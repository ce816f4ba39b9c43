import type { BrowserContext } from "playwright-core";

/** Reads the browser's clipboard for a test, from a page of its own. */
export interface ClipboardReader extends AsyncDisposable {
  /** The clipboard's text once it equals `expected`, or what it holds after `timeoutMs`. */
  waitFor(expected: string, timeoutMs?: number): Promise<string>;
}

/**
 * A blank page on a loopback port of its own, allowed to read the clipboard, in `context`. The
 * terminal page cannot read it (its Permissions-Policy says `clipboard-read=()`, whatever the
 * context grants), and the clipboard is the browser's, not a page's: what the terminal page copied
 * is what this page reads.
 */
export async function openClipboardReader(context: BrowserContext): Promise<ClipboardReader> {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response("<!doctype html><title>clipboard reader</title>", { headers: { "content-type": "text/html;charset=utf-8" } }),
  });
  const origin = `http://127.0.0.1:${server.port}`;
  try {
    await context.grantPermissions(["clipboard-read"], { origin });
    const page = await context.newPage();
    await page.goto(origin);
    return {
      // Polled on animation frames: a copy through the Clipboard API settles asynchronously.
      waitFor: (expected, timeoutMs = 5_000) =>
        page.evaluate(
          async ([want, limitMs]) => {
            const deadline = performance.now() + limitMs;
            for (;;) {
              const text = await navigator.clipboard.readText();
              if (text === want || performance.now() > deadline) return text;
              await new Promise((resolve) => requestAnimationFrame(resolve));
            }
          },
          [expected, timeoutMs] as const,
        ),
      async [Symbol.asyncDispose]() {
        await page.close();
        await server.stop(true);
      },
    };
  } catch (error) {
    await server.stop(true);
    throw error;
  }
}
