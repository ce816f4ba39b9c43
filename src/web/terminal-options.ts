import type { ITerminalOptions } from "@xterm/xterm";

/** How every tab's terminal looks: system monospace fonts only, since the page loads nothing from elsewhere. */
export const TERMINAL_OPTIONS: ITerminalOptions = {
  // `term.unicode`, through which the Unicode 11 widths are switched on, is still a proposed API.
  allowProposedApi: true,
  cursorBlink: true,
  fontFamily: '"DejaVu Sans Mono", "Cascadia Mono", Menlo, Consolas, "Liberation Mono", monospace',
  fontSize: 14,
  // At a line height of 1 the cell is 16 px tall and DejaVu Sans Mono's `_` falls below it: at a
  // device pixel ratio of 1 underscores were not drawn at all (`LC_CTYPE` read `LC CTYPE`).
  lineHeight: 1.15,
  scrollback: 10_000,
  theme: { background: "#101214", foreground: "#d8dee4", cursor: "#d8dee4", selectionBackground: "#3a4450" },
};
