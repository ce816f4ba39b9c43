import type { TabStatus } from "./tab.ts";

function field(className: string, text: string, title = ""): HTMLSpanElement {
  const span = document.createElement("span");
  span.className = className;
  span.textContent = text;
  if (title) span.title = title;
  return span;
}

/** What the bar says first on a read-only viewer's page. */
const VIEWING_TEXT = "viewing read-only";

/** What a screen reader is told of the active tab: its connection and its shell, in a sentence. */
export function announcementOf(status: TabStatus | undefined): string {
  if (!status) return "";
  const connection = status.connection === "open" ? "connected" : `${status.connection}${status.detail ? `: ${status.detail}` : ""}`;
  const shell = status.shell === "exited" ? (status.ending ?? "shell exited") : status.shell ? `shell ${status.shell}` : "";
  return [status.viewing ? VIEWING_TEXT : "", connection, shell].filter((part) => part !== "").join("; ");
}

/** What the right of the bar says of the shell; empty when there is no shell yet. */
function shellText(status: TabStatus): string {
  if (status.shell === "exited") return status.ending ?? "shell exited";
  // What the server last said; it may have ended the shell since (a restart kills every sandbox).
  if (status.shell && status.connection !== "open") return `shell ${status.shell} when last connected`;
  return status.shell ? `shell ${status.shell}` : "";
}

/** The status bar of the active tab, drawn again at every change of any tab. */
export interface StatusBar {
  render(status: TabStatus | undefined): void;
}

/** What the bar's buttons do, for the tab active when one is pressed. */
export interface StatusBarActions {
  newShell(): void;
  /** Offers a read-only link to the tab's shell (share-panel.ts). */
  share(): void;
}

/**
 * One button for the page's life, never moved while it is shown: a button made anew (or taken out
 * and put back) drops the keyboard focus a user had moved onto it, at every status change.
 * aria-disabled rather than `disabled` while the page is not connected, for the same reason: a
 * disabled button loses the focus too.
 */
function actionButton(label: string, action: () => void): HTMLButtonElement {
  const button = document.createElement("button");
  button.textContent = label;
  button.addEventListener("click", () => {
    if (button.getAttribute("aria-disabled") !== "true") action();
  });
  return button;
}

/** Shows `button` at the end of `parent` while `shown`, leaving it where it is otherwise. */
function showButton(parent: HTMLElement, button: HTMLButtonElement, shown: boolean, enabled: boolean): void {
  button.setAttribute("aria-disabled", String(!enabled));
  if (!shown) button.remove();
  else if (!button.isConnected) parent.append(button);
}

/**
 * Renders the active tab's status into `bar`: connection state, sandbox backend, session id and host
 * on the left, the shell's state on the right, with a Share read-only link button while it runs and
 * a New shell button once it has exited. A read-only viewer's bar says so first, and has neither
 * button. The bar's data-connection, data-shell and data-session attributes say the same for tests
 * and styles.
 */
export function createStatusBar(bar: HTMLElement, actions: StatusBarActions): StatusBar {
  const left = document.createElement("div");
  left.className = "status-left";
  const right = document.createElement("div");
  right.className = "status-right";
  const shell = field("shell", "");
  const shareButton = actionButton("Share read-only link", () => actions.share());
  const newShellButton = actionButton("New shell", () => actions.newShell());

  return {
    render(status) {
      if (!status) {
        bar.replaceChildren();
        return;
      }
      bar.dataset["connection"] = status.connection;
      bar.dataset["shell"] = status.shell ?? "none";
      const hello = status.hello;
      bar.dataset["session"] = hello?.session ?? "";
      // A missing or wrong token is explained in the detail itself (connect-failure.ts).
      const fields = [field(`state state-${status.connection}`, status.connection, status.detail)];
      if (status.viewing) fields.unshift(field("viewing", VIEWING_TEXT, "This page shows a session's shell and cannot type into it"));
      if (status.connection !== "open" && status.detail) fields.push(field("detail", status.detail));
      if (hello) {
        const sandbox = hello.sandbox;
        const notEnforced = sandbox.notEnforced?.length ? ` Not enforced: ${sandbox.notEnforced.join("; ")}` : "";
        fields.push(
          field(`backend backend-${sandbox.backend}`, `sandbox ${sandbox.backend}`, `${sandbox.reason ?? ""}${notEnforced}`.trim()),
          field("session", `session ${hello.session}`, hello.workspace),
          field("host", `host ${hello.host}`),
        );
      }
      // Nothing on the left takes the focus: it is simply drawn again.
      left.replaceChildren(...fields);
      if (left.parentElement !== bar) bar.replaceChildren(left, right);

      const text = shellText(status);
      if (shell.textContent !== text) shell.textContent = text;
      if (text === "") shell.remove();
      else if (!shell.isConnected) right.prepend(shell);
      const connected = status.connection === "open";
      // A server older than viewers gives no view secret: nothing to share then.
      const shareable = !status.viewing && status.shell === "running" && hello?.viewSecret !== undefined;
      showButton(right, shareButton, shareable, connected);
      showButton(right, newShellButton, !status.viewing && status.shell === "exited", connected);
    },
  };
}
