/** Where the page remembers screen reader mode: localStorage, so that it holds for every visit. */
export const SCREEN_READER_STORAGE_KEY = "bunker.screenReaderMode";

/** The address's flag: `?screen-reader=on` or `=off` sets the mode (and it is remembered). */
export const SCREEN_READER_QUERY = "screen-reader";

/** What `on`/`off` (and the spellings people try) mean; undefined for anything else. */
function parseSwitch(value: string | null): boolean | undefined {
  if (value === null) return undefined;
  if (["on", "1", "true", "yes", ""].includes(value.toLowerCase())) return true;
  if (["off", "0", "false", "no"].includes(value.toLowerCase())) return false;
  return undefined;
}

/**
 * Whether xterm.js's screen reader mode is on: the address's flag when it has one, else what was
 * remembered, else off. `fromAddress` says the flag decided (it is then to be remembered). A bare
 * `?screen-reader` turns it on.
 */
export function resolveScreenReaderMode(search: string, stored: string | null): { on: boolean; fromAddress: boolean } {
  const flag = parseSwitch(new URLSearchParams(search).get(SCREEN_READER_QUERY));
  if (flag !== undefined) return { on: flag, fromAddress: true };
  return { on: parseSwitch(stored) ?? false, fromAddress: false };
}

/** The parts of the browser the setting touches; `storage` undefined where localStorage is refused. */
export interface ScreenReaderPlace {
  location: Pick<Location, "pathname" | "search" | "hash">;
  history: Pick<History, "replaceState">;
  storage: Pick<Storage, "getItem" | "setItem"> | undefined;
}

/** Remembers the mode; a storage that refuses (full, or blocked) leaves it for this visit only. */
export function saveScreenReaderMode(storage: ScreenReaderPlace["storage"], on: boolean): void {
  try {
    storage?.setItem(SCREEN_READER_STORAGE_KEY, on ? "on" : "off");
  } catch {
    // Nothing to do: the mode still holds until the page is left.
  }
}

/**
 * The mode for this visit. A flag in the address is remembered and leaves the address bar, so that
 * a reload after the toggle turned the mode off does not turn it on again.
 */
export function takeScreenReaderMode(place: ScreenReaderPlace): boolean {
  let stored: string | null = null;
  try {
    stored = place.storage?.getItem(SCREEN_READER_STORAGE_KEY) ?? null;
  } catch {
    // A storage that refuses reads as nothing remembered.
  }
  const { on, fromAddress } = resolveScreenReaderMode(place.location.search, stored);
  if (fromAddress) {
    saveScreenReaderMode(place.storage, on);
    const rest = new URLSearchParams(place.location.search);
    rest.delete(SCREEN_READER_QUERY);
    const query = rest.toString();
    place.history.replaceState(null, "", place.location.pathname + (query ? `?${query}` : "") + place.location.hash);
  }
  return on;
}

/** Appends the toggle, a button with aria-pressed, to `bar`: after the tabs, so that Tab reaches it from them. */
export function createScreenReaderToggle(bar: HTMLElement, on: boolean, toggled: (on: boolean) => void): void {
  const button = document.createElement("button");
  button.className = "screen-reader-toggle";
  button.textContent = "Screen reader mode";
  button.title = "Keeps the terminal's text where screen readers read it (xterm.js's screen reader mode); remembered in this browser";
  button.setAttribute("aria-pressed", String(on));
  button.addEventListener("click", () => {
    const next = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(next));
    toggled(next);
  });
  bar.append(button);
}
