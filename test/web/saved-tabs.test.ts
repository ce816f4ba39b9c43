import { expect, test } from "bun:test";
import { SAVED_TABS_STORAGE_KEY, loadSavedTabs, loadSessionsToEnd, saveSessionsToEnd, saveTabs } from "../../src/web/saved-tabs.ts";

function memoryStorage(initial?: string) {
  const items = new Map<string, string>(initial === undefined ? [] : [[SAVED_TABS_STORAGE_KEY, initial]]);
  return { getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value) };
}

test("saved tabs come back as they were saved", () => {
  const storage = memoryStorage();
  const tabs = [{ session: "s1", resumeSecret: "r1", shellId: "shell-1" }, { session: "s2", resumeSecret: "r2" }];
  saveTabs(storage, tabs);
  expect(loadSavedTabs(storage)).toEqual(tabs);
});

test("nothing stored, or something that is not a list of tabs, loads as no tabs", () => {
  expect(loadSavedTabs(memoryStorage())).toEqual([]);
  expect(loadSavedTabs(memoryStorage("{not json"))).toEqual([]);
  expect(loadSavedTabs(memoryStorage('[{"session":1}]'))).toEqual([]);
});

test("sessions to end come back as they were saved, apart from the saved tabs", () => {
  const storage = memoryStorage();
  const sessions = [{ session: "s1", resumeSecret: "r1" }];
  saveSessionsToEnd(storage, sessions);
  expect(loadSessionsToEnd(storage)).toEqual(sessions);
  expect(loadSavedTabs(storage)).toEqual([]);
  expect(loadSessionsToEnd(memoryStorage('[{"session":"s1"}]'))).toEqual([]);
});
