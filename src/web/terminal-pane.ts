import { FitAddon } from "@xterm/addon-fit";
import { Unicode11Addon } from "@xterm/addon-unicode11";
import { Terminal, type ITerminalOptions } from "@xterm/xterm";
import { enableCopy } from "./clipboard.ts";
import { TERMINAL_OPTIONS } from "./terminal-options.ts";

/** A terminal drawn in its own pane, fitted to the pane whenever the layout changes. */
export interface TerminalPane {
  readonly term: Terminal;
  /** The element the terminal is drawn in. */
  readonly element: HTMLElement;
  /** Fits the terminal to the pane now (after the pane was shown, say); not while it holds a size. */
  fit(): void;
  /**
   * Holds the terminal at `size` (a viewer draws the program it watches at the program's terminal
   * size, whatever its window), or, undefined, fits it to the pane again.
   */
  holdSize(size: { cols: number; rows: number } | undefined): void;
  dispose(): void;
}

/** Creates a `.pane` in `parent` with a terminal in it (the page's options, then `options`). */
export function createTerminalPane(parent: HTMLElement, options: ITerminalOptions): TerminalPane {
  const element = document.createElement("div");
  element.className = "pane";
  parent.append(element);
  const term = new Terminal({ ...TERMINAL_OPTIONS, ...options });
  const fitAddon = new FitAddon();
  term.loadAddon(fitAddon);
  // Emoji are two cells wide, as glibc's wcwidth and so bash and vim count them (xterm.js's default
  // Unicode 6 tables make them one, and the cursor lands off the text as soon as a line has one).
  term.loadAddon(new Unicode11Addon());
  term.unicode.activeVersion = "11";
  enableCopy(term);
  term.open(element);
  let held: { cols: number; rows: number } | undefined;
  const fit = () => {
    if (!held) fitAddon.fit();
  };
  fit();
  const observer = new ResizeObserver(fit);
  observer.observe(element);
  return {
    term,
    element,
    fit,
    holdSize(size) {
      held = size && { cols: size.cols, rows: size.rows };
      if (held) term.resize(held.cols, held.rows);
      else fitAddon.fit();
    },
    dispose() {
      observer.disconnect();
      term.dispose();
      element.remove();
    },
  };
}

/**
 * A title a program set (`ESC ] 0 ; title BEL`, as shells and vim do) as the page shows it: at
 * most a line's worth of the program's text, without control characters; undefined when empty.
 */
export function shownTitle(title: string): string | undefined {
  const shown = title.replaceAll(/[\u0000-\u001f\u007f]/g, "").slice(0, 120);
  return shown === "" ? undefined : shown;
}
