import { expect, test } from "bun:test";
import type { BigIntStats } from "node:fs";
import { fileValidatorsOf, isRangeStillValid, matchesIfNoneMatch } from "../../src/files/http-validators.ts";

const TAG = '"b-17d2f1a3c0e8a100-2a"';

test("the tag is size, mtime in ns and inode in hex, and Last-Modified is the mtime's second as an IMF-fixdate", () => {
  // 0x17979cfe3d85cd15 ns is 2023-11-14 22:13:20.123456789 UTC.
  const stats = { size: 11n, mtimeNs: 0x17979cfe3d85cd15n, ino: 42n } as BigIntStats;
  expect(fileValidatorsOf(stats)).toEqual({ entityTag: '"b-17979cfe3d85cd15-2a"', lastModified: "Tue, 14 Nov 2023 22:13:20 GMT" });
});

test("If-None-Match matches by the weak comparison, in a list, or as *", () => {
  for (const header of [TAG, `W/${TAG}`, `"x", ${TAG}`, `"a,b",${TAG}`, " * "]) expect({ header, matches: matchesIfNoneMatch(header, TAG) }).toEqual({ header, matches: true });
  for (const header of [null, '"x"', '"b-17d2f1a3c0e8a100"', "", "b-17d2f1a3c0e8a100-2a"]) expect({ header, matches: matchesIfNoneMatch(header, TAG) }).toEqual({ header, matches: false });
});

test("If-Range keeps a range only for the exact strong tag; a weak tag, another tag or a date gets the whole file", () => {
  expect(isRangeStillValid(null, TAG)).toBe(true);
  expect(isRangeStillValid(` ${TAG} `, TAG)).toBe(true);
  for (const header of [`W/${TAG}`, '"x"', "Tue, 14 Nov 2023 22:13:20 GMT", ""]) expect({ header, valid: isRangeStillValid(header, TAG) }).toEqual({ header, valid: false });
});
