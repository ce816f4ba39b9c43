/** What a read-only link names: a session, its view secret (hello.viewSecret) and the exec to show. */
export interface ViewTicket {
  session: string;
  viewSecret: string;
  execId: string;
}

/** Where the page keeps the link it was opened with, for this browser tab: it survives reloads, not the tab. */
export const VIEW_STORAGE_KEY = "bunker.view";

/** The fragment parameter of a read-only link: `#view=<session>.<viewSecret>.<exec id>`. */
export const VIEW_FRAGMENT_PARAM = "view";

/**
 * One part of the fragment: percent-encoded as encodeURIComponent does, and `.` too, since it
 * separates the parts and a session name may hold one. Base64url ids and `shell-…` exec ids come
 * out as they are, so the usual link reads `#view=<session>.<secret>.<exec>`.
 */
function encodePart(part: string): string {
  return encodeURIComponent(part).replaceAll(".", "%2E");
}

/** The fragment value of a read-only link (after `#view=`). */
export function encodeViewTicket(ticket: ViewTicket): string {
  return [ticket.session, ticket.viewSecret, ticket.execId].map(encodePart).join(".");
}

/** The ticket a fragment value names, or undefined when it is not three non-empty parts. Never throws. */
export function decodeViewTicket(value: string): ViewTicket | undefined {
  const parts = value.split(".");
  if (parts.length !== 3) return undefined;
  let decoded: string[];
  try {
    decoded = parts.map((part) => decodeURIComponent(part));
  } catch {
    return undefined;
  }
  const [session = "", viewSecret = "", execId = ""] = decoded;
  if (session === "" || viewSecret === "" || execId === "") return undefined;
  return { session, viewSecret, execId };
}

/** The read-only link to `ticket` on the page at `page` (whose own fragment, a token say, is left out). */
export function buildViewLink(page: Pick<Location, "origin" | "pathname" | "search">, ticket: ViewTicket): string {
  return `${page.origin}${page.pathname}${page.search}#${VIEW_FRAGMENT_PARAM}=${encodeViewTicket(ticket)}`;
}

/** The parts of the browser the link flow touches, so tests can hand in their own. */
export interface ViewPlace {
  location: Pick<Location, "hash" | "pathname" | "search">;
  history: Pick<History, "replaceState">;
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem">;
}

/** What the page was opened as: a viewer of a ticket, a viewer of a link it cannot read, or neither. */
export type ViewRequest = { kind: "view"; ticket: ViewTicket } | { kind: "malformed" } | undefined;

/**
 * Whether this page is a read-only viewer. A `#view=` fragment (which, as a token's, never reaches a
 * server or a Referer) moves to sessionStorage and leaves the address bar, so that the view secret
 * is not bookmarked or kept in history, and a reload views the same exec. A `#token=` fragment makes
 * the browser tab a full page again. Without either, the browser tab stays what it was.
 */
export function takeViewRequest(place: ViewPlace): ViewRequest {
  const hash = place.location.hash;
  const fragment = new URLSearchParams(hash.replace(/^#/, ""));
  if (fragment.has(VIEW_FRAGMENT_PARAM)) {
    place.history.replaceState(null, "", place.location.pathname + place.location.search);
    // Read raw: URLSearchParams turns %2E back into the `.` that separates the parts.
    const raw = /(?:^#?|&)view=([^&]*)/.exec(hash)?.[1] ?? "";
    const ticket = decodeViewTicket(raw);
    if (!ticket) {
      place.storage.removeItem(VIEW_STORAGE_KEY);
      return { kind: "malformed" };
    }
    place.storage.setItem(VIEW_STORAGE_KEY, raw);
    return { kind: "view", ticket };
  }
  if (fragment.has("token")) {
    place.storage.removeItem(VIEW_STORAGE_KEY);
    return undefined;
  }
  const stored = place.storage.getItem(VIEW_STORAGE_KEY);
  const ticket = stored === null ? undefined : decodeViewTicket(stored);
  return ticket && { kind: "view", ticket };
}
