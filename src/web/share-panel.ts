import { copyText } from "./clipboard.ts";

/** Shows a read-only link, copied to the clipboard where the browser lets the page. */
export interface SharePanel {
  /** Shows `link`, whose session's links Revoke links then revokes (`source`). */
  show(link: string, source: LinkSource): void;
  /** Something changed in the page: the link shown may have been revoked meanwhile (see LinkSource.currentLink). */
  refresh(): void;
}

/** What a link lets its holder do, said wherever one is handed out. */
const LINK_WARNING = "Whoever opens it can watch everything this session prints, until the session ends or its links are revoked.";

/** The panel's elements (index.html's #share). */
export interface SharePanelElements {
  panel: HTMLElement;
  message: HTMLElement;
  link: HTMLInputElement;
  done: HTMLButtonElement;
  revoke: HTMLButtonElement;
}

/** Revokes the session's links (view.revoke): the new link and how many viewers were cut, or undefined when it could not. */
export type RevokeLinks = () => Promise<{ link: string | undefined; viewersCut: number } | "not_sent" | "unanswered">;

/**
 * Where a shown link comes from: `key` tells one source from another (a tab), `revokeLinks` revokes
 * that source's session's links. The panel's Revoke links acts on the link it shows, not on the tab
 * shown when it is clicked: the panel stays open over another tab, and revoked that tab's session
 * while the link it showed went on working (found by a review of revocation).
 */
export interface LinkSource {
  key: object;
  revokeLinks: RevokeLinks;
  /** The source's link now: another client of the session may have revoked the one shown. */
  currentLink(): string | undefined;
}

/**
 * The Share read-only link panel: the link in a read-only field, selected and focused, so that it
 * can be copied by hand when the clipboard is refused (a browser may refuse it outside a secure
 * context, or by setting), and a line saying whether it was copied. Done or Escape closes it and
 * gives the keyboard back (`returnFocus`). It floats over the terminal, so the terminal keeps its
 * size and the shell gets no resize.
 */
export function createSharePanel(elements: SharePanelElements, returnFocus: () => void): SharePanel {
  const { panel, message, link, done, revoke } = elements;
  /** The source of the link in the field. */
  let shown: LinkSource | undefined;
  const hide = () => {
    panel.hidden = true;
    returnFocus();
  };
  done.addEventListener("click", hide);
  // Every link handed out so far stops working, and every page viewing through one is closed; the
  // field then holds the one new link, not copied (the old one may still be on the clipboard).
  revoke.addEventListener("click", () => {
    const asked = shown;
    // aria-disabled rather than disabled while one is under way: a disabled button loses the focus
    // to the page's body, where Escape reaches no panel (found by a review of revocation).
    if (!asked || revoke.getAttribute("aria-disabled") === "true") return;
    revoke.setAttribute("aria-disabled", "true");
    panel.dataset["revoked"] = "pending";
    message.textContent = "Revoking the read-only links…";
    void asked.revokeLinks().then((outcome) => {
      revoke.removeAttribute("aria-disabled");
      // The panel shows another session's link by now: this outcome says nothing of it.
      if (shown?.key !== asked.key) return;
      // "true", "false" (never sent), or "unknown" (sent, and the connection went before the answer).
      panel.dataset["revoked"] = outcome === "not_sent" ? "false" : outcome === "unanswered" ? "unknown" : "true";
      if (outcome === "not_sent") {
        message.textContent = "The links could not be revoked: the page is not connected to the server. Try again once it is.";
      } else if (outcome === "unanswered") {
        message.textContent = "The connection went before the server answered: the links may or may not be revoked. Revoke them again once the page is connected (a second revoke does no harm).";
      } else {
        link.value = outcome.link ?? "";
        const cut = outcome.viewersCut === 1 ? "1 page viewing through one was closed" : `${outcome.viewersCut} pages viewing through them were closed`;
        message.textContent = `Every earlier read-only link is revoked (${cut}). A new link, not copied: ${LINK_WARNING}`;
      }
      // The field is described by the message: focused now, a screen reader reads the outcome.
      if (panel.hidden) return;
      link.focus();
      link.select();
    });
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    hide();
  });
  return {
    refresh() {
      // Not over an answer still to come (the revoke's own outcome shows the new link).
      if (!shown || panel.hidden || panel.dataset["revoked"] === "pending") return;
      const now = shown.currentLink();
      if (now === undefined || now === link.value) return;
      // Revoked by another client of the session (or by this page, its answer lost with a socket):
      // the link in the field opens nothing any more.
      link.value = now;
      panel.dataset["revoked"] = "elsewhere";
      message.textContent = `The session's read-only links were revoked: every earlier link has stopped working. Its new link, not copied: ${LINK_WARNING}`;
    },
    show(text, source) {
      shown = source;
      link.value = text;
      panel.hidden = false;
      panel.dataset["copied"] = "pending";
      delete panel.dataset["revoked"];
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
