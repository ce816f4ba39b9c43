import { coalesceRender, elementById, localStorageIfAllowed } from "./page-dom.ts";
import { createScreenReaderToggle, saveScreenReaderMode, takeScreenReaderMode } from "./screen-reader-mode.ts";
import { announcementOf, createStatusBar } from "./status-bar.ts";
import { createViewer } from "./viewer.ts";
import type { ViewRequest } from "./view-link.ts";

/** What the page says of a `#view=` fragment it cannot read. */
const MALFORMED_LINK = "this read-only link is malformed: it should end in #view=<session>.<secret>.<shell>; ask for the link again";

/**
 * The page opened with a read-only link (`#view=`, view-link.ts): one terminal that follows one
 * session's shell and cannot type into it, no token, no tabs. The bar above it names the view and
 * keeps the Screen reader mode button.
 */
export function startViewerPage(request: NonNullable<ViewRequest>): void {
  const settings = localStorageIfAllowed();
  const screenReaderMode = takeScreenReaderMode({ location, history, storage: settings });
  const tabs = elementById("tabs");
  tabs.setAttribute("aria-label", "Read-only view");
  const label = document.createElement("span");
  label.className = "view-label";
  tabs.append(label);
  const statusBar = createStatusBar(elementById("status"), { newShell: () => undefined, share: () => undefined });
  const statusLive = elementById("status-live");

  if (request.kind === "malformed") {
    label.textContent = "read-only view";
    statusBar.render({ connection: "closed", detail: MALFORMED_LINK, hello: undefined, shell: undefined, ending: undefined, title: undefined, viewing: true });
    statusLive.textContent = MALFORMED_LINK;
    const message = document.createElement("p");
    message.className = "view-error";
    message.setAttribute("role", "alert");
    message.textContent = `[bunker] ${MALFORMED_LINK}`;
    elementById("panes").append(message);
    return;
  }

  const { ticket } = request;
  label.textContent = `read-only view of session ${ticket.session}`;
  const render = coalesceRender(() => {
    const status = viewer.status;
    statusBar.render(status);
    const announced = announcementOf(status);
    if (statusLive.textContent !== announced) statusLive.textContent = announced;
    document.title = status.title ? `${status.title} · bunker (read-only)` : `bunker · viewing ${ticket.session}`;
  });
  const viewer = createViewer({ parent: elementById("panes"), page: location, ticket, screenReaderMode, changed: render });
  createScreenReaderToggle(tabs, screenReaderMode, (on) => {
    viewer.term.options.screenReaderMode = on;
    saveScreenReaderMode(settings, on);
  });
  window.addEventListener("online", () => viewer.retryNow());
  render();
  // Keys do nothing here, but the keyboard is where a terminal's reader expects it (scrolling, copy).
  viewer.term.focus();
  // Tests read the terminal's buffer instead of its pixels.
  Object.defineProperty(window, "__bunkerTerm", { get: () => viewer.term });
}
