import { copyText } from "./clipboard.ts";

/** Shows a read-only link, copied to the clipboard where the browser lets the page. */
export interface SharePanel {
  show(link: string): void;
}

/** What a link lets its holder do, said wherever one is handed out. */
const LINK_WARNING = "Whoever opens it can watch everything this session prints, until the session ends.";

/** The panel's elements (index.html's #share). */
export interface SharePanelElements {
  panel: HTMLElement;
  message: HTMLElement;
  link: HTMLInputElement;
  done: HTMLButtonElement;
}

/**
 * The Share read-only link panel: the link in a read-only field, selected and focused, so that it
 * can be copied by hand when the clipboard is refused (a browser may refuse it outside a secure
 * context, or by setting), and a line saying whether it was copied. Done or Escape closes it and
 * gives the keyboard back (`returnFocus`). It floats over the terminal, so the terminal keeps its
 * size and the shell gets no resize.
 */
export function createSharePanel(elements: SharePanelElements, returnFocus: () => void): SharePanel {
  const { panel, message, link, done } = elements;
  const hide = () => {
    panel.hidden = true;
    returnFocus();
  };
  done.addEventListener("click", hide);
  panel.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    hide();
  });
  return {
    show(text) {
      link.value = text;
      panel.hidden = false;
      panel.dataset["copied"] = "pending";
      message.textContent = "Copying the read-only link…";
      // Within the click or keystroke that asked: execCommand("copy") needs that gesture.
      void copyText(text).then((copied) => {
        if (link.value !== text) return;
        panel.dataset["copied"] = String(copied);
        message.textContent = copied
          ? `Read-only link copied to the clipboard. ${LINK_WARNING}`
          : `The browser did not let the page use the clipboard: copy the link from this field. ${LINK_WARNING}`;
        // The field is described by the message: focused now, a screen reader reads the outcome.
        if (panel.hidden) return;
        link.focus();
        link.select();
      });
    },
  };
}
