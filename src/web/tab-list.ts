import type { PageLocation } from "./socket-url.ts";
import { saveTabs, type SavedTab } from "./saved-tabs.ts";
import { createTab, type Tab } from "./tab.ts";

/** A tab with the number its button shows; numbers are never reused within a page. */
export interface NumberedTab {
  number: number;
  tab: Tab;
}

/** The page's tabs, one session each, and which one is shown. */
export interface TabList {
  readonly tabs: readonly NumberedTab[];
  readonly active: NumberedTab | undefined;
  /** Opens a tab (resuming `restore` when given) and shows it. */
  add(restore?: SavedTab): void;
  activate(number: number): void;
  /** Ends the tab's session; the last tab closed leaves a fresh one behind. */
  close(number: number): void;
  /** After a network drop: reconnect every tab now rather than at its next backoff. */
  retryAll(): void;
}

export interface TabListOptions {
  parent: HTMLElement;
  page: PageLocation;
  token: string | undefined;
  storage: Pick<Storage, "setItem">;
  changed(): void;
}

/** Creates the tab list; every change saves the tabs' sessions for a reload, then calls `changed`. */
export function createTabList(options: TabListOptions): TabList {
  const tabs: NumberedTab[] = [];
  let active: NumberedTab | undefined;
  let lastNumber = 0;

  const changed = () => {
    saveTabs(options.storage, tabs.flatMap(({ tab }) => (tab.saved ? [tab.saved] : [])));
    options.changed();
  };
  const activate = (number: number) => {
    const next = tabs.find((entry) => entry.number === number);
    if (!next) return;
    active?.tab.hide();
    active = next;
    next.tab.show();
    changed();
  };
  const add = (restore?: SavedTab) => {
    const number = ++lastNumber;
    const tab = createTab({ parent: options.parent, page: options.page, token: options.token, restore, changed });
    tabs.push({ number, tab });
    activate(number);
  };

  return {
    get tabs() {
      return tabs;
    },
    get active() {
      return active;
    },
    add,
    activate,
    close(number) {
      const index = tabs.findIndex((entry) => entry.number === number);
      const closing = tabs[index];
      if (!closing) return;
      tabs.splice(index, 1);
      closing.tab.close();
      if (active === closing) {
        active = undefined;
        const neighbour = tabs[Math.min(index, tabs.length - 1)];
        if (neighbour) activate(neighbour.number);
      } else {
        // The × of a tab in the background took the focus: typing goes back to the shown terminal.
        active?.tab.term.focus();
      }
      if (tabs.length === 0) add();
      else changed();
    },
    retryAll() {
      for (const { tab } of tabs) tab.retryNow();
    },
  };
}
