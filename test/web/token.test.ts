import { describe, expect, test } from "bun:test";
import { TOKEN_STORAGE_KEY, takePageToken, type TokenPlace } from "../../src/web/token.ts";

/** A stand-in for the browser: an address, a history that records replaceState, and a storage map. */
function browserAt(hash: string, stored?: string) {
  const items = new Map<string, string>(stored === undefined ? [] : [[TOKEN_STORAGE_KEY, stored]]);
  const replaced: string[] = [];
  const place: TokenPlace = {
    location: { hash, pathname: "/", search: "" },
    history: { replaceState: (_data: unknown, _unused: string, url?: string | URL | null) => void replaced.push(String(url)) },
    storage: { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) },
  };
  return { place, items, replaced };
}

describe("takePageToken", () => {
  test("takes the token from the fragment, keeps it in sessionStorage and clears the address bar", () => {
    const browser = browserAt("#token=abc-DEF_123");
    expect(takePageToken(browser.place)).toBe("abc-DEF_123");
    expect(browser.items.get(TOKEN_STORAGE_KEY)).toBe("abc-DEF_123");
    expect(browser.replaced).toEqual(["/"]);
  });

  test("after a reload, with no fragment, reads the token from sessionStorage and leaves the address alone", () => {
    const browser = browserAt("", "stored-token");
    expect(takePageToken(browser.place)).toBe("stored-token");
    expect(browser.replaced).toEqual([]);
  });

  test("prefers a new token in the fragment to the stored one", () => {
    const browser = browserAt("#token=new-token", "old-token");
    expect(takePageToken(browser.place)).toBe("new-token");
    expect(browser.items.get(TOKEN_STORAGE_KEY)).toBe("new-token");
  });

  test("an empty #token= leaves the address bar too, and keeps the stored token", () => {
    const browser = browserAt("#token=", "stored-token");
    expect(takePageToken(browser.place)).toBe("stored-token");
    expect(browser.replaced).toEqual(["/"]);
  });

  test("returns undefined when there is no token anywhere (a --no-auth server)", () => {
    const browser = browserAt("#other=1");
    expect(takePageToken(browser.place)).toBeUndefined();
    expect(browser.replaced).toEqual([]);
  });
});
