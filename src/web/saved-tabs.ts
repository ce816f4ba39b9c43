import * as v from "valibot";

/** Where the page keeps its tabs' sessions for this browser tab, so that a reload resumes them. */
export const SAVED_TABS_STORAGE_KEY = "bunker.tabs";

/** What a reload needs to resume a tab: its session, the session's resume secret, its shell's exec id. */
export const SavedTabSchema = v.object({
  session: v.string(),
  resumeSecret: v.string(),
  shellId: v.optional(v.string()),
});
export type SavedTab = v.InferOutput<typeof SavedTabSchema>;

/** The saved tabs; an empty list when there are none or the stored value is not ours. */
export function loadSavedTabs(storage: Pick<Storage, "getItem">): SavedTab[] {
  const text = storage.getItem(SAVED_TABS_STORAGE_KEY);
  if (text === null) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  const result = v.safeParse(v.array(SavedTabSchema), value);
  return result.success ? result.output : [];
}

/** Replaces the saved tabs. */
export function saveTabs(storage: Pick<Storage, "setItem">, tabs: SavedTab[]): void {
  storage.setItem(SAVED_TABS_STORAGE_KEY, JSON.stringify(tabs));
}
