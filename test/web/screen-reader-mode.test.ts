import { describe, expect, test } from "bun:test";
import { SCREEN_READER_STORAGE_KEY, resolveScreenReaderMode, takeScreenReaderMode } from "../../src/web/screen-reader-mode.ts";

/** A page at `path` (pathname and search) with `stored` remembered; records what the page writes. */
function place(path: string, stored: string | null, storageRefuses = false) {
  const url = new URL(path, "http://127.0.0.1:7681");
  const written: Record<string, string> = {};
  const addresses: string[] = [];
  return {
    written,
    addresses,
    place: {
      location: { pathname: url.pathname, search: url.search, hash: url.hash },
      history: { replaceState: (_data: unknown, _unused: string, address?: string | URL | null) => void addresses.push(String(address)) },
      storage: {
        getItem: (key: string) => {
          if (storageRefuses) throw new Error("SecurityError");
          return key === SCREEN_READER_STORAGE_KEY ? stored : null;
        },
        setItem: (key: string, value: string) => {
          if (storageRefuses) throw new Error("QuotaExceededError");
          written[key] = value;
        },
      },
    },
  };
}

describe("resolveScreenReaderMode", () => {
  test("is off by default, and as remembered otherwise", () => {
    expect(resolveScreenReaderMode("", null)).toEqual({ on: false, fromAddress: false });
    expect(resolveScreenReaderMode("", "on")).toEqual({ on: true, fromAddress: false });
    expect(resolveScreenReaderMode("", "off")).toEqual({ on: false, fromAddress: false });
  });

  test("takes the address's flag over what was remembered: on, 1, a bare flag, off, 0", () => {
    expect(resolveScreenReaderMode("?screen-reader=on", "off")).toEqual({ on: true, fromAddress: true });
    expect(resolveScreenReaderMode("?screen-reader=1", null)).toEqual({ on: true, fromAddress: true });
    expect(resolveScreenReaderMode("?screen-reader", null)).toEqual({ on: true, fromAddress: true });
    expect(resolveScreenReaderMode("?a=b&screen-reader=off", "on")).toEqual({ on: false, fromAddress: true });
    expect(resolveScreenReaderMode("?screen-reader=0", "on")).toEqual({ on: false, fromAddress: true });
  });

  test("ignores a flag it cannot read, and a remembered value that is not its own", () => {
    expect(resolveScreenReaderMode("?screen-reader=maybe", "on")).toEqual({ on: true, fromAddress: false });
    expect(resolveScreenReaderMode("", "{}")).toEqual({ on: false, fromAddress: false });
  });
});

describe("takeScreenReaderMode", () => {
  test("remembers the address's flag and takes it out of the address bar, keeping the rest", () => {
    const page = place("/bunker/?x=1&screen-reader=on", "off");
    expect(takeScreenReaderMode(page.place)).toBe(true);
    expect(page.written).toEqual({ [SCREEN_READER_STORAGE_KEY]: "on" });
    expect(page.addresses).toEqual(["/bunker/?x=1"]);
  });

  test("leaves the address bar and the storage alone without a flag", () => {
    const page = place("/", "on");
    expect(takeScreenReaderMode(page.place)).toBe(true);
    expect(page.written).toEqual({});
    expect(page.addresses).toEqual([]);
  });

  test("still follows the flag for this visit where the storage refuses", () => {
    const page = place("/?screen-reader=on", null, true);
    expect(takeScreenReaderMode(page.place)).toBe(true);
    expect(page.addresses).toEqual(["/"]);
    expect(takeScreenReaderMode({ ...place("/", null).place, storage: undefined })).toBe(false);
  });
});
