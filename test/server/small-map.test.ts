import { expect, test } from "bun:test";
import { SmallMap } from "../../src/server/small-map.ts";

test("behaves as a Map through one entry, a second, and back", () => {
  const map = new SmallMap<string, number>();
  expect(map.size).toBe(0);
  expect(map.get("a")).toBeUndefined();
  map.set("a", 1);
  map.set("a", 2);
  expect([map.size, map.get("a"), map.has("a"), map.has("b")]).toEqual([1, 2, true, false]);
  map.set("b", 3);
  expect(map.entries()).toEqual([["a", 2], ["b", 3]]);
  expect(map.delete("a")).toBe(true);
  expect(map.delete("a")).toBe(false);
  expect([map.size, map.keys()]).toEqual([1, ["b"]]);
  map.clear();
  expect([map.size, map.keys(), map.delete("b")]).toEqual([0, [], false]);
  map.set("c", 0);
  expect(map.entries()).toEqual([["c", 0]]);
});

test("keeps a value that is falsy or undefined apart from no entry", () => {
  const map = new SmallMap<string, number | null>();
  map.set("x", null);
  expect([map.has("x"), map.get("x"), map.size]).toEqual([true, null, 1]);
});
