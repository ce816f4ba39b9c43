import { loadSavedTabs } from "./saved-tabs.ts";
import { announcementOf, renderStatusBar } from "./status-bar.ts";
import { renderTabBar } from "./tab-bar.ts";
import { createTabList } from "./tab-list.ts";
import { takePageToken } from "./token.ts";

function elementById(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

/** A reload resumes this browser tab's sessions; a new visit (or a duplicated tab) starts its own. */
function isReload(): boolean {
  const [navigation] = performance.getEntriesByType("navigation") as PerformanceNavigationTiming[];
  return navigation?.type === "reload";
}

const token = takePageToken({ location, history, storage: sessionStorage });
const tabBar = elementById("tabs");
const statusBar = elementById("status");
const statusLive = elementById("status-live");

let renderQueued = false;
/** Tabs report changes while they are being built; render once, after the current task. */
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => {
    renderQueued = false;
    const active = list.active;
    renderTabBar(tabBar, list.tabs, active, { activate: list.activate, close: list.close, add: () => list.add() });
    renderStatusBar(statusBar, active?.tab.status, () => active?.tab.newShell());
    const announced = announcementOf(active?.tab.status);
    if (statusLive.textContent !== announced) statusLive.textContent = announced;
    const session = active?.tab.status.hello?.session;
    const title = active?.tab.status.title;
    document.title = title ? `${title} · bunker` : session ? `bunker · ${session}` : "bunker";
  });
}

const list = createTabList({ parent: elementById("panes"), page: location, token, storage: sessionStorage, changed: scheduleRender });
const restored = isReload() ? loadSavedTabs(sessionStorage) : [];
if (restored.length === 0) list.add();
for (const saved of restored) list.add(saved);
window.addEventListener("online", () => list.retryAll());

// Tests read the terminal's buffer instead of its pixels.
Object.defineProperty(window, "__bunkerTerm", { get: () => list.active?.tab.term });
