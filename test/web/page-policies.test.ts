// What the terminal page's policies refuse, seen in Chromium: a script that its markup carries
// (Content-Security-Policy), a string handed by script to a DOM sink as markup or script (Trusted
// Types), and the powerful features it does not use (Permissions-Policy). The tests that use the page
// (page.test.ts, page-input.test.ts, page-viewer.test.ts, ...) show that it works under them without
// a violation.
import { describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { TestServer } from "../helpers/server-process.ts";
import { EXPECTED_PAGE_HEADERS } from "../helpers/page-headers.ts";
import { noBrowserReason, withServerAndBrowser } from "./browser.ts";
import { PROMPT, waitForLines } from "./terminal-screen.ts";
import { createPolicyViolations, watchPolicyViolations, type PolicyViolations } from "./policy-violations.ts";

let server: TestServer;
let browser: Browser;

/** The page's own address. */
const base = () => `http://127.0.0.1:${server.port}/`;

/** A browser context whose pages' policy violations go to a record of its own. */
async function watchedContext(): Promise<{ context: BrowserContext; violations: PolicyViolations }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  const violations = createPolicyViolations();
  await watchPolicyViolations(context, violations);
  return { context, violations };
}

/** The page with the token, at its shell's prompt. */
async function openPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base()}#token=${server.token}`);
  await waitForLines(page, [PROMPT]);
  return page;
}

/** Each feature the page's Permissions-Policy names, and whether it allows it to the page. */
function permissionsPolicyFeatures(): { name: string; allowed: boolean }[] {
  return EXPECTED_PAGE_HEADERS["permissions-policy"].split(", ").map((entry) => {
    const [name, allowlist] = entry.split("=");
    return { name: name!, allowed: allowlist !== "()" };
  });
}

describe.skipIf(noBrowserReason !== undefined)("what the terminal page's policies refuse, in headless Chromium", () => {
  withServerAndBrowser((started, launched) => {
    server = started;
    browser = launched;
  });

  test("runs no inline script that its markup carries, and reports the refusal (script-src)", async () => {
    const { context, violations } = await watchedContext();
    // As if the HTML itself carried markup from elsewhere: the parser inserts this script, so no DOM
    // sink, and no Trusted Types check, comes between it and script-src. bunker's headers stay. (A
    // document Playwright answers has no address, so Chromium keeps its socket from loopback: no
    // token and no shell here, the refusal is all this test waits for.)
    await context.route(
      (url) => url.pathname === "/",
      async (route) => {
        const response = await route.fetch();
        const html = (await response.text()).replace("</body>", "<script>window.__injectedScriptRan = true</script></body>");
        await route.fulfill({ response, body: html });
      },
    );
    const reported = violations.next(/^script-src-elem refused inline /);
    const page = await context.newPage();
    await page.goto(base());
    // goto has waited for the load event, and so for the parser to have met the script.
    const injected = await page.evaluate(() => ({
      inPage: document.querySelectorAll("script:not([src])").length,
      ran: (window as unknown as { __injectedScriptRan?: boolean }).__injectedScriptRan === true,
    }));
    expect(injected).toEqual({ inPage: 1, ran: false });
    expect(await reported).toBe(`script-src-elem refused inline on ${base()}`);
    await context.close();
  });

  test("turns no string into markup or script (Trusted Types), lets no script make a policy, and reports each refusal", async () => {
    const { context, violations } = await watchedContext();
    const page = await openPage(context);
    const policyRefused = violations.next(/^trusted-types refused /);
    const attempts = await page.evaluate(() => {
      const attempt = (action: () => void) => {
        try {
          action();
          return "allowed";
        } catch (error) {
          return error instanceof TypeError ? "TypeError" : String(error);
        }
      };
      const target = document.createElement("div");
      const script = document.createElement("script");
      const factory = (window as unknown as { trustedTypes: { createPolicy(name: string, rules: object): unknown } }).trustedTypes;
      return {
        innerHTML: attempt(() => void (target.innerHTML = "<img src=x>")),
        insertAdjacentHTML: attempt(() => target.insertAdjacentHTML("beforeend", "<img src=x>")),
        scriptText: attempt(() => void (script.textContent = "window.__ran = true")),
        createPolicy: attempt(() => void factory.createPolicy("launder", { createHTML: (text: string) => text })),
        markupMade: target.childElementCount,
      };
    });
    expect(attempts).toEqual({ innerHTML: "TypeError", insertAdjacentHTML: "TypeError", scriptText: "TypeError", createPolicy: "TypeError", markupMade: 0 });
    // Reported in order: once the last has come, so have the others.
    await policyRefused;
    expect(violations.lines.filter((line) => !line.startsWith("console "))).toEqual([
      `require-trusted-types-for refused trusted-types-sink on ${base()}`,
      `require-trusted-types-for refused trusted-types-sink on ${base()}`,
      `require-trusted-types-for refused trusted-types-sink on ${base()}`,
      `trusted-types refused trusted-types-policy on ${base()}`,
    ]);
    await context.close();
  });

  test("denies the powerful features it does not use, even those the user allowed the origin (Permissions-Policy)", async () => {
    const { context, violations } = await watchedContext();
    await context.grantPermissions(["geolocation", "clipboard-read", "clipboard-write"], { origin: base().slice(0, -1) });
    await context.setGeolocation({ latitude: 48.85, longitude: 2.35 });
    const page = await openPage(context);
    const readRefused = violations.next(/^permissions-policy refused clipboard-read /);
    // Loaded without a word: Chromium knows every feature the header names (it complains on the
    // console about any other).
    expect(violations.lines).toEqual([]);
    const features = permissionsPolicyFeatures();
    const seen = await page.evaluate(async (names) => {
      const policy = (document as unknown as { featurePolicy: { features(): string[]; allowsFeature(name: string): boolean } }).featurePolicy;
      return {
        unknown: names.filter((name) => !policy.features().includes(name)),
        allowed: names.filter((name) => policy.allowsFeature(name)),
        geolocation: await new Promise<string>((resolve) =>
          navigator.geolocation.getCurrentPosition(
            () => resolve("allowed"),
            (error) => resolve(error.code === error.PERMISSION_DENIED ? "refused" : error.message),
          ),
        ),
        clipboardRead: await navigator.clipboard.readText().then(
          () => "allowed",
          (error: DOMException) => `refused: ${error.name}`,
        ),
        clipboardWrite: await navigator.clipboard.writeText("written by the page").then(
          () => "allowed",
          (error: DOMException) => `refused: ${error.name}`,
        ),
      };
    }, features.map((feature) => feature.name));
    expect(seen).toEqual({
      unknown: [],
      allowed: features.filter((feature) => feature.allowed).map((feature) => feature.name),
      geolocation: "refused",
      clipboardRead: "refused: NotAllowedError",
      clipboardWrite: "allowed",
    });
    expect(features.filter((feature) => feature.allowed).map((feature) => feature.name)).toEqual(["clipboard-write"]);
    await readRefused;
    const reports = violations.lines.filter((line) => line.startsWith("permissions-policy ")).map((line) => line.slice(0, line.indexOf(" on ")));
    expect(reports).toEqual(["permissions-policy refused geolocation", "permissions-policy refused clipboard-read"]);
    await context.close();
  });
});
