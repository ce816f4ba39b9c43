import { expect, test } from "bun:test";
import { parseRangeHeader } from "../../src/files/http-range.ts";

test("single byte ranges select [start, end) of the file", () => {
  expect(parseRangeHeader("bytes=0-99", 1000)).toEqual({ kind: "part", start: 0, end: 100 });
  expect(parseRangeHeader("bytes=500-", 1000)).toEqual({ kind: "part", start: 500, end: 1000 });
  expect(parseRangeHeader("bytes=-100", 1000)).toEqual({ kind: "part", start: 900, end: 1000 });
  expect(parseRangeHeader("bytes=900-5000", 1000)).toEqual({ kind: "part", start: 900, end: 1000 });
  expect(parseRangeHeader("bytes=-5000", 1000)).toEqual({ kind: "part", start: 0, end: 1000 });
});

test("a range starting at or past the end is unsatisfiable", () => {
  expect(parseRangeHeader("bytes=1000-", 1000)).toEqual({ kind: "unsatisfiable" });
  expect(parseRangeHeader("bytes=-0", 1000)).toEqual({ kind: "unsatisfiable" });
  // The last bytes of an empty file: none (a review got 206 with "bytes 0--1/0").
  expect(parseRangeHeader("bytes=-5", 0)).toEqual({ kind: "unsatisfiable" });
  expect(parseRangeHeader("bytes=0-", 0)).toEqual({ kind: "unsatisfiable" });
});

test("no header, other units, several ranges or nonsense serve the whole file", () => {
  for (const header of [null, "items=0-1", "bytes=0-1,5-6", "bytes=abc", "bytes=-", "bytes=5-2"]) {
    expect(parseRangeHeader(header, 1000)).toEqual({ kind: "whole" });
  }
});
