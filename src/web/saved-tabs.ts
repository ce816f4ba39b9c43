import * as v from "valibot";

/** Where the page keeps its tabs' sessions for this browser tab, so that a reload resumes them. */
export const SAVED_TABS_STORAGE_KEY = "bunker.tabs";

/**
 * Where the page keeps the sessions of tabs closed while it could not reach the server, until it
 * has ended them (session-closer.ts): a reload meanwhile still ends them. sessionStorage, beside
 * the token that reaching them needs; the resume secrets in it are kept like the tabs' own.
 */
export const SESSIONS_TO_END_STORAGE_KEY = "bunker.sessionsToEnd";

/** What a reload needs to resume a tab: its session, the session's resume secret, its shell's exec id. */
export const SavedTabSchema = v.object({
  session: v.string(),
  resumeSecret: v.string(),
  shellId: v.optional(v.string()),
});
export type SavedTab = v.InferOutput<typeof SavedTabSchema>;

/** A session still to be ended, and the secret that resumes it to send `close`. */
export const SessionToEndSchema = v.object({
  session: v.string(),
  resumeSecret: v.string(),
});
export type SessionToEnd = v.InferOutput<typeof SessionToEndSchema>;

/** The list stored under `key`; an empty list when there is none or the stored value is not ours. */
function loadList<T extends v.GenericSchema>(storage: Pick<Storage, "getItem">, key: string, schema: T): v.InferOutput<T>[] {
  const text = storage.getItem(key);
  if (text === null) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  const result = v.safeParse(v.array(schema), value);
  return result.success ? result.output : [];
}

/** The saved tabs; an empty list when there are none or the stored value is not ours. */
export function loadSavedTabs(storage: Pick<Storage, "getItem">): SavedTab[] {
  return loadList(storage, SAVED_TABS_STORAGE_KEY, SavedTabSchema);
}

/** Replaces the saved tabs. */
export function saveTabs(storage: Pick<Storage, "setItem">, tabs: SavedTab[]): void {
  storage.setItem(SAVED_TABS_STORAGE_KEY, JSON.stringify(tabs));
}

/** The sessions still to be ended; an empty list when there are none or the stored value is not ours. */
export function loadSessionsToEnd(storage: Pick<Storage, "getItem">): SessionToEnd[] {
  return loadList(storage, SESSIONS_TO_END_STORAGE_KEY, SessionToEndSchema);
}

/** Replaces the sessions still to be ended. */
export function saveSessionsToEnd(storage: Pick<Storage, "setItem">, sessions: SessionToEnd[]): void {
  storage.setItem(SESSIONS_TO_END_STORAGE_KEY, JSON.stringify(sessions));
}
