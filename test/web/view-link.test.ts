import { describe, expect, test } from "bun:test";
import { VIEW_STORAGE_KEY, buildViewLink, decodeViewTicket, encodeViewTicket, takeViewRequest, type ViewPlace } from "../../src/web/view-link.ts";

/** A stand-in for the browser: an address, a history that records replaceState, and a storage map. */
function browserAt(hash: string, stored?: string) {
  const items = new Map<string, string>(stored === undefined ? [] : [[VIEW_STORAGE_KEY, stored]]);
  const replaced: string[] = [];
  const place: ViewPlace = {
    location: { hash, pathname: "/bunker/", search: "?x=1" },
    history: { replaceState: (_data: unknown, _unused: string, url?: string | URL | null) => void replaced.push(String(url)) },
    storage: { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value), removeItem: (key) => void items.delete(key) },
  };
  return { place, items, replaced };
}

const ticket = { session: "hejviuKYNoIVy0V8a3Xw2Q", viewSecret: "OOKEQgWbHgoNCdj9xeB8Y2RuGtr4XTqy", execId: "shell-m1abc" };

describe("the read-only link", () => {
  test("reads #view=<session>.<secret>.<exec> as it is for base64url ids", () => {
    expect(encodeViewTicket(ticket)).toBe("hejviuKYNoIVy0V8a3Xw2Q.OOKEQgWbHgoNCdj9xeB8Y2RuGtr4XTqy.shell-m1abc");
    expect(buildViewLink({ origin: "http://127.0.0.1:7681", pathname: "/", search: "" }, ticket)).toBe(
      "http://127.0.0.1:7681/#view=hejviuKYNoIVy0V8a3Xw2Q.OOKEQgWbHgoNCdj9xeB8Y2RuGtr4XTqy.shell-m1abc",
    );
  });

  test("escapes a dot in a session name or exec id, and any character an id may hold, and reads them back", () => {
    const odd = { session: "build.main", viewSecret: "s3cr3t_-", execId: "a.b c/ü&=#%" };
    const encoded = encodeViewTicket(odd);
    expect(encoded.split(".")).toHaveLength(3);
    expect(encoded).toMatch(/^[A-Za-z0-9%._~!*'()-]+$/);
    expect(decodeViewTicket(encoded)).toEqual(odd);
  });

  test("refuses a value that is not three non-empty parts, or holds a broken escape", () => {
    for (const bad of ["", "one", "a.b", "a.b.c.d", "a..c", "a.b.%E0%A4", "a.b.%zz"]) expect(decodeViewTicket(bad)).toBeUndefined();
  });
});

describe("takeViewRequest", () => {
  test("takes the link from the fragment, keeps it in sessionStorage and clears the address bar", () => {
    const browser = browserAt(`#view=${encodeViewTicket({ ...ticket, session: "a.b" })}`);
    expect(takeViewRequest(browser.place)).toEqual({ kind: "view", ticket: { ...ticket, session: "a.b" } });
    expect(browser.items.get(VIEW_STORAGE_KEY)).toBe(encodeViewTicket({ ...ticket, session: "a.b" }));
    expect(browser.replaced).toEqual(["/bunker/?x=1"]);
  });

  test("after a reload, with no fragment, views the stored link", () => {
    const browser = browserAt("", encodeViewTicket(ticket));
    expect(takeViewRequest(browser.place)).toEqual({ kind: "view", ticket });
    expect(browser.replaced).toEqual([]);
  });

  test("says a garbled link is malformed, clears it from the address bar and forgets a stored one", () => {
    const browser = browserAt("#view=garbage", encodeViewTicket(ticket));
    expect(takeViewRequest(browser.place)).toEqual({ kind: "malformed" });
    expect(browser.replaced).toEqual(["/bunker/?x=1"]);
    expect(browser.items.has(VIEW_STORAGE_KEY)).toBe(false);
  });

  test("makes the browser tab a full page again when it is opened with a token", () => {
    const browser = browserAt("#token=abc", encodeViewTicket(ticket));
    expect(takeViewRequest(browser.place)).toBeUndefined();
    expect(browser.items.has(VIEW_STORAGE_KEY)).toBe(false);
    // The token's own flow (token.ts) clears the address bar.
    expect(browser.replaced).toEqual([]);
  });

  test("is not a viewer without a link", () => {
    expect(takeViewRequest(browserAt("").place)).toBeUndefined();
  });
});
