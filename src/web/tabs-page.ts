import { closeSessionOnce } from "./close-attempt.ts";
import { askToEndSession, endSessionQuestion, needsEndConfirmation } from "./end-session.ts";
import { loadSavedTabs } from "./saved-tabs.ts";
import { createScreenReaderToggle, saveScreenReaderMode, takeScreenReaderMode } from "./screen-reader-mode.ts";
import { createSessionCloser } from "./session-closer.ts";
import { announcementOf, createStatusBar } from "./status-bar.ts";
import { createTabBar } from "./tab-bar.ts";
import { onTabBarShortcut } from "./tab-bar-keys.ts";
import { createTabList } from "./tab-list.ts";
import { takePageToken } from "./token.ts";
import { coalesceRender, elementById, localStorageIfAllowed } from "./page-dom.ts";
import { createSharePanel } from "./share-panel.ts";
import { buildViewLink, type ViewTicket } from "./view-link.ts";
import type { Tab } from "./tab.ts";

/** A reload resumes this browser tab's sessions; a new visit (or a duplicated tab) starts its own. */
function isReload(): boolean {
  const [navigation] = performance.getEntriesByType("navigation") as PerformanceNavigationTiming[];
  return navigation?.type === "reload";
}

/**
 * The page of tabs: one session each, with its shell, started with the server's token (token.ts),
 * and a Share read-only link panel for the shown tab's shell.
 */
export function startTabsPage(): void {
  const token = takePageToken({ location, history, storage: sessionStorage });
  const settings = localStorageIfAllowed();
  const screenReaderMode = takeScreenReaderMode({ location, history, storage: settings });
  const dialog = elementById("end-session");
  if (!(dialog instanceof HTMLDialogElement)) throw new Error("the page's #end-session is not a <dialog>");
  const endDialog = { dialog, question: elementById("end-session-question") };
  const tabBar = createTabBar(elementById("tabs"), {
    activate: (number) => list.activate(number),
    // Asked first when the session has something to lose (end-session.ts).
    async close(number, focus) {
      const closing = list.tabs.find((entry) => entry.number === number);
      if (!closing) return false;
      const status = closing.tab.status;
      if (needsEndConfirmation(status) && !(await askToEndSession(endDialog, endSessionQuestion(number, status)))) return false;
      list.close(number, focus === "terminal");
      return true;
    },
    add: () => list.add(),
    focusTerminal: () => list.active?.tab.term.focus(),
  });
  const link = elementById("share-link");
  const done = elementById("share-done");
  const revoke = elementById("share-revoke");
  if (!(link instanceof HTMLInputElement) || !(done instanceof HTMLButtonElement) || !(revoke instanceof HTMLButtonElement)) {
    throw new Error("the page's share panel is not an input and two buttons");
  }
  const sharePanel = createSharePanel({ panel: elementById("share"), message: elementById("share-message"), link, done, revoke }, () => list.active?.tab.term.focus());
  /** The tab's links, as the share panel revokes them: the tab whose link it shows, whichever is shown by then. */
  const linkSourceOf = (tab: Tab, shown: ViewTicket) => ({
    key: tab,
    // The shown link with the session's secret now: same session and shell (a new shell in the tab
    // is not a revocation; a tab whose session was replaced shows another session's links).
    currentLink() {
      const hello = tab.status.hello;
      return hello?.session === shown.session && hello.viewSecret !== undefined ? buildViewLink(location, { ...shown, viewSecret: hello.viewSecret }) : undefined;
    },
    async revokeLinks() {
      const outcome = await tab.revokeViewers();
      if (outcome.kind !== "revoked") return outcome.kind;
      // The answer came with the new secret in the tab's hello (no link while the tab has no shell).
      const ticket = tab.viewTicket;
      return { link: ticket && buildViewLink(location, ticket), viewersCut: outcome.viewersCut };
    },
  });
  const statusBar = createStatusBar(elementById("status"), {
    newShell: () => list.active?.tab.newShell(),
    share() {
      const tab = list.active?.tab;
      const ticket = tab?.viewTicket;
      if (tab && ticket) sharePanel.show(buildViewLink(location, ticket), linkSourceOf(tab, ticket));
    },
  });
  const statusLive = elementById("status-live");

  /** Tabs report changes while they are being built; render once, after the current task. */
  const scheduleRender = coalesceRender(() => {
    const active = list.active;
    tabBar.render(list.tabs, active);
    statusBar.render(active?.tab.status);
    sharePanel.refresh();
    const announced = announcementOf(active?.tab.status);
    if (statusLive.textContent !== announced) statusLive.textContent = announced;
    const session = active?.tab.status.hello?.session;
    const title = active?.tab.status.title;
    document.title = title ? `${title} · bunker` : session ? `bunker · ${session}` : "bunker";
  });

  // Takes up at once the sessions that the page before a reload could not end yet.
  const closer = createSessionCloser({ storage: sessionStorage, attempt: (target) => closeSessionOnce(location, token, target) });
  const list = createTabList({
    parent: elementById("panes"),
    page: location,
    token,
    storage: sessionStorage,
    terminalDescription: "terminal-keys",
    screenReaderMode,
    changed: scheduleRender,
    endLater: (session) => closer.end(session),
  });
  createScreenReaderToggle(elementById("tabs"), screenReaderMode, (on) => {
    list.setScreenReaderMode(on);
    saveScreenReaderMode(settings, on);
  });
  const restored = isReload() ? loadSavedTabs(sessionStorage) : [];
  if (restored.length === 0) list.add();
  for (const saved of restored) list.add(saved);
  window.addEventListener("online", () => {
    list.retryAll();
    closer.retryNow();
  });
  // Tab stays the shell's (completion); this shortcut is the way out of a terminal and back.
  onTabBarShortcut(window, () => (tabBar.hasFocus ? list.active?.tab.term.focus() : tabBar.focus()));

  // Tests read the terminal's buffer instead of its pixels.
  Object.defineProperty(window, "__bunkerTerm", { get: () => list.active?.tab.term });
}
