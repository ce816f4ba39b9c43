import type { PageLocation, ResumeTicket } from "./socket-url.ts";
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
  /** Opens a tab (resuming `restore` when given) and shows it, its terminal focused. */
  add(restore?: SavedTab): void;
  /** Shows the tab; `focusTerminal` false leaves the keyboard where it is (in the tab bar). */
  activate(number: number, focusTerminal?: boolean): void;
  /**
   * Ends the tab's session; the last tab closed leaves a fresh one behind, its terminal focused.
   * `focusTerminal` false leaves the keyboard where it is (the tab bar moves it to the next tab).
   */
  close(number: number, focusTerminal?: boolean): void;
  /** After a network drop: reconnect every tab now rather than at its next backoff. */
  retryAll(): void;
  /** Switches xterm.js's screen reader mode in every tab, and in those opened later. */
  setScreenReaderMode(on: boolean): void;
}

export interface TabListOptions {
  parent: HTMLElement;
  page: PageLocation;
  token: string | undefined;
  storage: Pick<Storage, "setItem">;
  /** The id of the element that tells how to leave a terminal by keyboard (its aria-describedby). */
  terminalDescription?: string;
  /** xterm.js's screen reader mode at first (see setScreenReaderMode). */
  screenReaderMode: boolean;
  changed(): void;
  /** The session of a tab closed while the page could not reach the server: to be ended once it can. */
  endLater(session: ResumeTicket): void;
}

/** Creates the tab list; every change saves the tabs' sessions for a reload, then calls `changed`. */
export function createTabList(options: TabListOptions): TabList {
  const tabs: NumberedTab[] = [];
  let active: NumberedTab | undefined;
  let lastNumber = 0;
  let screenReaderMode = options.screenReaderMode;

  const changed = () => {
    saveTabs(options.storage, tabs.flatMap(({ tab }) => (tab.saved ? [tab.saved] : [])));
    options.changed();
  };
  const activate = (number: number, focusTerminal = true) => {
    const next = tabs.find((entry) => entry.number === number);
    if (!next) return;
    active?.tab.hide();
    active = next;
    next.tab.show(focusTerminal);
    changed();
  };
  const add = (restore?: SavedTab) => {
    const number = ++lastNumber;
    const tab = createTab({ parent: options.parent, page: options.page, token: options.token, restore, screenReaderMode, changed });
    // The tab panel of the tab bar's tab-<number> (tab-bar.ts).
    tab.pane.id = `pane-${number}`;
    tab.pane.setAttribute("role", "tabpanel");
    tab.pane.setAttribute("aria-labelledby", `tab-${number}`);
    if (options.terminalDescription) tab.term.textarea?.setAttribute("aria-describedby", options.terminalDescription);
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
    close(number, focusTerminal = true) {
      const index = tabs.findIndex((entry) => entry.number === number);
      const closing = tabs[index];
      if (!closing) return;
      tabs.splice(index, 1);
      closing.tab.close(options.endLater);
      if (active === closing) {
        active = undefined;
        const neighbour = tabs[Math.min(index, tabs.length - 1)];
        if (neighbour) activate(neighbour.number, focusTerminal);
      } else if (focusTerminal) {
        // After a click on a background tab's ×, typing goes to the shown terminal, wherever it was.
        active?.tab.term.focus();
      }
      if (tabs.length === 0) add();
      else changed();
    },
    retryAll() {
      for (const { tab } of tabs) tab.retryNow();
    },
    setScreenReaderMode(on) {
      screenReaderMode = on;
      for (const { tab } of tabs) tab.term.options.screenReaderMode = on;
    },
  };
}
