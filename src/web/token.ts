/** Where the page keeps the token for this browser tab: it survives reloads, not the tab. */
export const TOKEN_STORAGE_KEY = "bunker.token";

/** The parts of the browser the token flow touches, so tests can hand in their own. */
export interface TokenPlace {
  location: Pick<Location, "hash" | "pathname" | "search">;
  history: Pick<History, "replaceState">;
  storage: Pick<Storage, "getItem" | "setItem">;
}

/**
 * The server's token for this page. The server prints `http://host:port/#token=<token>`: a fragment
 * never reaches a server or a Referer header. The token moves from the fragment to sessionStorage
 * and the fragment leaves the address bar, so it is not bookmarked, shared or kept in history.
 * Undefined when there is none (a `--no-auth` server needs none).
 */
export function takePageToken(place: TokenPlace): string | undefined {
  const fromFragment = new URLSearchParams(place.location.hash.replace(/^#/, "")).get("token");
  // An empty `#token=` leaves the address bar too (and keeps a token stored earlier).
  if (fromFragment !== null) place.history.replaceState(null, "", place.location.pathname + place.location.search);
  if (fromFragment) {
    place.storage.setItem(TOKEN_STORAGE_KEY, fromFragment);
    return fromFragment;
  }
  return place.storage.getItem(TOKEN_STORAGE_KEY) ?? undefined;
}
