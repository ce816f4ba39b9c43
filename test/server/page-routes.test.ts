// The terminal page (and the read-only viewer, the same page with #view=) goes out with a
// Content-Security-Policy (Trusted Types included), the headers that keep it out of frames and
// sniffing, and a Permissions-Policy (src/server/page-headers.ts); test/web/page-policies.test.ts
// shows what they refuse in Chromium, and the other browser tests that the page works under them.
import { describe, expect, test } from "bun:test";
import { useSharedServer } from "../helpers/shared-server.ts";
import { EXPECTED_PAGE_HEADERS, pageAssetLinks, pageHeadersOf } from "../helpers/page-headers.ts";

describe("the terminal page run from source", () => {
  const shared = useSharedServer();
  const base = () => `http://127.0.0.1:${shared.server.port}/`;

  test("answers / with its policy, X-Frame-Options DENY, nosniff, no-referrer and its Permissions-Policy", async () => {
    const response = await fetch(base());
    expect({ status: response.status, type: response.headers.get("content-type"), headers: pageHeadersOf(response) }).toEqual({
      status: 200,
      type: "text/html;charset=utf-8",
      headers: EXPECTED_PAGE_HEADERS,
    });
    await response.body?.cancel();
  });

  test("sends the same headers with each of its files, with HEAD, and with a 304", async () => {
    const html = await (await fetch(base())).text();
    const links = pageAssetLinks(html);
    expect(links.length).toBeGreaterThanOrEqual(2);
    for (const path of ["./", ...links]) {
      const response = await fetch(new URL(path, base()));
      await response.arrayBuffer();
      const etag = response.headers.get("etag")!;
      const head = await fetch(new URL(path, base()), { method: "HEAD" });
      const cached = await fetch(new URL(path, base()), { headers: { "if-none-match": etag } });
      expect([response, head, cached].map((each) => ({ path, status: each.status, headers: pageHeadersOf(each) }))).toEqual([
        { path, status: 200, headers: EXPECTED_PAGE_HEADERS },
        { path, status: 200, headers: EXPECTED_PAGE_HEADERS },
        { path, status: 304, headers: EXPECTED_PAGE_HEADERS },
      ]);
    }
  });

  test("links its files relatively, each loading with the length HEAD gives", async () => {
    const html = await (await fetch(base())).text();
    const links = pageAssetLinks(html);
    expect(links.filter((link) => !link.startsWith("./"))).toEqual([]);
    for (const path of ["./", ...links]) {
      const bytes = (await (await fetch(new URL(path, base()))).arrayBuffer()).byteLength;
      const head = await fetch(new URL(path, base()), { method: "HEAD" });
      expect({ path, status: head.status, length: head.headers.get("content-length") }).toEqual({ path, status: 200, length: String(bytes) });
    }
  });
});
