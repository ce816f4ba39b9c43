import type { ITerminalOptions } from "@xterm/xterm";

/** How every tab's terminal looks: system monospace fonts only, since the page loads nothing from elsewhere. */
export const TERMINAL_OPTIONS: ITerminalOptions = {
  // `term.unicode`, through which the Unicode 11 widths are switched on, is still a proposed API.
  allowProposedApi: true,
  cursorBlink: true,
  fontFamily: '"DejaVu Sans Mono", "Cascadia Mono", Menlo, Consolas, "Liberation Mono", monospace',
  fontSize: 14,
  scrollback: 10_000,
  theme: { background: "#101214", foreground: "#d8dee4", cursor: "#d8dee4", selectionBackground: "#3a4450" },
};
