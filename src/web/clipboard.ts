import type { Terminal } from "@xterm/xterm";

/** The keys a terminal copies with on Linux and Windows, where Ctrl+C alone is an interrupt. */
export function isCopyShortcut(event: Pick<KeyboardEvent, "ctrlKey" | "shiftKey" | "altKey" | "metaKey" | "code">): boolean {
  if (!event.ctrlKey || event.altKey || event.metaKey) return false;
  return (event.shiftKey && event.code === "KeyC") || (!event.shiftKey && event.code === "Insert");
}

/**
 * Puts `text` on the clipboard; resolves to whether it got there. `execCommand("copy")` works on
 * plain http too, within a keystroke or a mouse gesture; the Clipboard API, where execCommand is
 * refused, needs a secure context.
 */
export async function copyText(text: string): Promise<boolean> {
  const fill = (event: ClipboardEvent) => {
    event.clipboardData?.setData("text/plain", text);
    event.preventDefault();
  };
  document.addEventListener("copy", fill, { capture: true });
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } finally {
    document.removeEventListener("copy", fill, { capture: true });
  }
  if (copied) return true;
  if (!navigator.clipboard) return false;
  return navigator.clipboard.writeText(text).then(
    () => true,
    () => false,
  );
}

/**
 * Copying as ttyd users expect: selecting text copies it, and Ctrl+Shift+C or Ctrl+Insert copies the
 * selection again (xterm.js alone copies only through the context menu or, on macOS, Cmd+C). Pasting
 * needs nothing here: Ctrl+Shift+V, Shift+Insert and the context menu raise the browser's paste
 * event, which xterm.js takes (bracketed when the program asked for it).
 */
export function enableCopy(term: Terminal): void {
  const copySelection = () => {
    if (term.hasSelection()) void copyText(term.getSelection());
  };
  term.onSelectionChange(copySelection);
  term.attachCustomKeyEventHandler((event) => {
    if (!isCopyShortcut(event)) return true;
    if (event.type === "keydown") copySelection();
    // Neither the shell (Ctrl+Shift+C would be ^C) nor the browser (its inspector) gets the key.
    event.preventDefault();
    return false;
  });
}
