import type { TabStatus } from "./tab.ts";

type EndingStatus = Pick<TabStatus, "connection" | "shell">;

function shellAlive(status: EndingStatus): boolean {
  return status.shell === "starting" || status.shell === "running";
}

/**
 * Whether ending a tab's session takes something the user may still want, and so is asked first:
 * a shell that runs (the page cannot tell an idle prompt from a build, so any), or a connected
 * session, whose workspace goes with it (the server's default). A tab without a session (never
 * connected, or closed) or whose shell has exited while it is cut off closes at once.
 */
export function needsEndConfirmation(status: EndingStatus): boolean {
  if (status.connection === "closed") return false;
  return shellAlive(status) || status.connection === "open";
}

/**
 * The question the dialog asks before session `number` ends. A session the page is not connected
 * to ends when the page reaches the server again (session-closer.ts), not now, and the question
 * says so: its shell may still be running meanwhile.
 */
export function endSessionQuestion(number: number, status: EndingStatus): string {
  const workspace = "its workspace is deleted unless the server keeps workspaces";
  if (status.connection !== "open") {
    return `End session ${number}? The page is not connected to the server: as soon as it is again, the session's shell and whatever runs in it are killed, and ${workspace}.`;
  }
  const loss = shellAlive(status) ? "Its shell and whatever runs in it are killed" : "It cannot be resumed";
  return `End session ${number}? ${loss}, and ${workspace}.`;
}

/** The page's confirmation dialog (index.html): a modal `<dialog>` whose form returns "end" or nothing. */
export interface EndSessionDialog {
  dialog: HTMLDialogElement;
  question: HTMLElement;
}

/**
 * Asks `question`; resolves to whether the user chose End session (Cancel and Escape say no). A
 * `<dialog>` rather than confirm(): it does not stop the page (output keeps flowing, acks keep
 * going), and a browser told to block a page's dialogs cannot make every × a no.
 */
export function askToEndSession({ dialog, question }: EndSessionDialog, text: string): Promise<boolean> {
  if (dialog.open) return Promise.resolve(false);
  question.textContent = text;
  dialog.returnValue = "";
  const answered = new Promise<boolean>((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "end"), { once: true }));
  // Modal: the page behind is inert, the button marked autofocus takes the keyboard, and the
  // focus goes back where it was (the terminal, or the tab Delete was pressed on) on closing.
  dialog.showModal();
  return answered;
}
