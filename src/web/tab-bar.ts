import { TAB_BAR_SHORTCUT, tabKeyAction } from "./tab-bar-keys.ts";
import type { NumberedTab } from "./tab-list.ts";
import type { Tab } from "./tab.ts";

/** Where the keyboard goes once a session has ended: its terminal (after a click) or the tab bar (after Delete). */
export type FocusAfterClose = "terminal" | "tab-bar";

export interface TabBarActions {
  /** Shows the tab and gives its terminal the keyboard. */
  activate(number: number): void;
  /** Ends the tab's session if the user agrees; resolves to whether it was ended. */
  close(number: number, focus: FocusAfterClose): Promise<boolean>;
  add(): void;
  /** Gives the keyboard back to the shown terminal. */
  focusTerminal(): void;
}

/** The tab bar: a WAI-ARIA tab list of the sessions, then the New session button. */
export interface TabBar {
  render(tabs: readonly NumberedTab[], active: NumberedTab | undefined): void;
  /** Gives the keyboard to the tab that Tab would reach: the shown one, or the one last moved to. */
  focus(): void;
  /** Whether the keyboard is in the bar (a tab or one of its buttons). */
  readonly hasFocus: boolean;
}

interface TabElements {
  item: HTMLDivElement;
  select: HTMLButtonElement;
}

/**
 * Builds the tab bar at the start of `bar`. Tabs keep their elements from one render to the next:
 * the bar is rendered at every status change of any tab, and a button made anew would drop the
 * keyboard focus a user had moved onto it (and have screen readers announce it again).
 */
export function createTabBar(bar: HTMLElement, actions: TabBarActions): TabBar {
  const list = document.createElement("div");
  list.className = "tab-list";
  list.setAttribute("role", "tablist");
  list.setAttribute("aria-label", "Sessions");
  const add = document.createElement("button");
  add.className = "tab-add";
  add.textContent = "+";
  add.title = "New session";
  add.setAttribute("aria-label", "New session");
  add.addEventListener("click", () => actions.add());
  bar.prepend(list, add);

  const elements = new Map<number, TabElements>();
  let order: number[] = [];
  /** The one tab in the Tab order (roving tabindex); the arrows move it. */
  let roving: number | undefined;

  const setRoving = (number: number | undefined) => {
    roving = number;
    for (const [each, { select }] of elements) select.tabIndex = each === roving ? 0 : -1;
  };
  const focusTab = (number: number) => {
    setRoving(number);
    elements.get(number)?.select.focus();
  };
  const numberOf = (target: EventTarget | null): number | undefined => {
    for (const [number, { select }] of elements) if (select === target) return number;
    return undefined;
  };

  list.addEventListener("focusin", (event) => {
    const number = numberOf(event.target);
    if (number !== undefined) setRoving(number);
  });
  list.addEventListener("keydown", (event) => {
    const number = numberOf(event.target);
    if (number === undefined || event.ctrlKey || event.altKey || event.metaKey) return;
    const index = order.indexOf(number);
    const action = tabKeyAction(event.key, index, order.length);
    if (!action) return;
    event.preventDefault();
    switch (action.kind) {
      case "move": {
        const to = order[action.to];
        if (to !== undefined) focusTab(to);
        return;
      }
      case "close": {
        // The focus goes to the tab that takes this one's place, as the tab list shows it then.
        const neighbour = order[index + 1] ?? order[index - 1];
        void actions.close(number, "tab-bar").then((closed) => {
          if (closed && neighbour !== undefined) focusTab(neighbour);
        });
        return;
      }
      default: {
        const unknown: never = action;
        throw new Error(`unknown tab key action ${JSON.stringify(unknown)}`);
      }
    }
  });
  bar.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.ctrlKey || event.altKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    actions.focusTerminal();
  });

  return {
    render(tabs, active) {
      const present = new Set(tabs.map(({ number }) => number));
      for (const [number, { item }] of elements) {
        if (present.has(number)) continue;
        item.remove();
        elements.delete(number);
      }
      tabs.forEach(({ number, tab }, index) => {
        let made = elements.get(number);
        if (!made) {
          made = createTabElements(number, actions);
          elements.set(number, made);
        }
        updateTabElements(made, number, tab, active?.number === number);
        // Tabs are only ever appended or removed, so this moves no element that is in place (a move
        // would drop its focus).
        const at = list.children[index];
        if (at !== made.item) list.insertBefore(made.item, at ?? null);
      });
      order = tabs.map(({ number }) => number);
      // While the keyboard is in the bar, the tab the arrows reached stays the one Tab comes back to.
      const keep = bar.contains(document.activeElement) && roving !== undefined && present.has(roving);
      setRoving(keep ? roving : active?.number);
    },
    focus() {
      if (roving !== undefined) focusTab(roving);
    },
    get hasFocus() {
      return bar.contains(document.activeElement);
    },
  };
}

function createTabElements(number: number, actions: TabBarActions): TabElements {
  const item = document.createElement("div");
  item.className = "tab";
  // The tab list's items are its tabs: the wrapper and the × are not part of its structure.
  item.setAttribute("role", "presentation");
  const select = document.createElement("button");
  select.className = "tab-select";
  select.id = `tab-${number}`;
  select.setAttribute("role", "tab");
  select.setAttribute("aria-controls", `pane-${number}`);
  select.addEventListener("click", () => actions.activate(number));
  const close = document.createElement("button");
  close.className = "tab-close";
  close.textContent = "×";
  close.title = "End this session (Delete on its tab)";
  close.setAttribute("aria-label", `End session ${number}`);
  // For the mouse: the keyboard and screen readers end a session with Delete on its tab, and a
  // button inside a tab list would be outside the tabs pattern they know.
  close.tabIndex = -1;
  close.setAttribute("aria-hidden", "true");
  // A click leaves the keyboard with the terminal it was in.
  close.addEventListener("mousedown", (event) => event.preventDefault());
  close.addEventListener("click", () => void actions.close(number, "terminal"));
  item.append(select, close);
  return { item, select };
}

function updateTabElements({ item, select }: TabElements, number: number, tab: Tab, shown: boolean): void {
  item.classList.toggle("active", shown);
  item.dataset["connection"] = tab.status.connection;
  const text = `${number} ${tab.status.hello?.session.slice(0, 6) ?? "…"}`;
  if (select.textContent !== text) select.textContent = text;
  const session = tab.status.hello ? `session ${tab.status.hello.session}` : "connecting";
  select.title = tab.status.title ? `${tab.status.title} (${session})` : session;
  select.setAttribute("aria-selected", String(shown));
  // The shortcut leads to the shown tab (unless the arrows have moved on since).
  if (shown) select.setAttribute("aria-keyshortcuts", TAB_BAR_SHORTCUT);
  else select.removeAttribute("aria-keyshortcuts");
}
