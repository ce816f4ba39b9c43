/** A key's modifiers and physical key, as KeyboardEvent has them. */
type ShortcutKey = Pick<KeyboardEvent, "ctrlKey" | "shiftKey" | "altKey" | "metaKey" | "code">;

/** The tab bar shortcut in aria-keyshortcuts' spelling, for the tab it focuses. */
export const TAB_BAR_SHORTCUT = "Control+Shift+L";

/**
 * Ctrl+Shift+L moves the focus between the terminal and the tab bar. xterm.js sends nothing for
 * Ctrl+Shift+letter (a program cannot tell it from Ctrl+letter on a terminal anyway), and this one
 * is not among Chrome's or Firefox's shortcuts. Tab, Escape and the F-keys belong to the programs
 * (F6, which browsers use to cycle panes, is a key in mc and htop). Matched by `code`, so that it is
 * the same key in every layout.
 */
export function isTabBarShortcut(event: ShortcutKey): boolean {
  return event.ctrlKey && event.shiftKey && !event.altKey && !event.metaKey && event.code === "KeyL";
}

/** What a key pressed on a tab does: focus another tab, or end this one's session. */
export type TabKeyAction = { kind: "move"; to: number } | { kind: "close" };

/**
 * The tab list's keys, as WAI-ARIA's tabs pattern with manual activation has them: arrows (wrapping)
 * and Home/End move the focus, Enter or Space (the button's own click) shows the tab, Delete closes
 * it. `index` is the focused tab's among `count`. (Escape, back to the terminal, is the whole bar's.)
 */
export function tabKeyAction(key: string, index: number, count: number): TabKeyAction | undefined {
  switch (key) {
    case "ArrowRight":
      return { kind: "move", to: (index + 1) % count };
    case "ArrowLeft":
      return { kind: "move", to: (index - 1 + count) % count };
    case "Home":
      return { kind: "move", to: 0 };
    case "End":
      return { kind: "move", to: count - 1 };
    case "Delete":
      return { kind: "close" };
    default:
      return undefined;
  }
}

/**
 * Calls `toggle` on the tab bar shortcut wherever the focus is. The window sees the key first (capture
 * phase), so xterm.js never does, and the browser does nothing else with it.
 */
export function onTabBarShortcut(target: Pick<Window, "addEventListener">, toggle: () => void): void {
  target.addEventListener(
    "keydown",
    (event) => {
      if (!isTabBarShortcut(event)) return;
      event.preventDefault();
      event.stopPropagation();
      toggle();
    },
    { capture: true },
  );
}
