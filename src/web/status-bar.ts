import type { TabStatus } from "./tab.ts";

function field(className: string, text: string, title = ""): HTMLSpanElement {
  const span = document.createElement("span");
  span.className = className;
  span.textContent = text;
  if (title) span.title = title;
  return span;
}

/** What a screen reader is told of the active tab: its connection and its shell, in a sentence. */
export function announcementOf(status: TabStatus | undefined): string {
  if (!status) return "";
  const connection = status.connection === "open" ? "connected" : `${status.connection}${status.detail ? `: ${status.detail}` : ""}`;
  const shell = status.shell === "exited" ? (status.ending ?? "shell exited") : status.shell ? `shell ${status.shell}` : "";
  return [connection, shell].filter((part) => part !== "").join("; ");
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

/**
 * Renders the active tab's status into `bar`: connection state, sandbox backend, session id and host
 * on the left, the shell's state (and a New shell button once it has exited) on the right. The
 * bar's data-connection, data-shell and data-session attributes say the same for tests and styles.
 * `newShell` is what the button does (for the tab active when it is pressed).
 */
export function createStatusBar(bar: HTMLElement, newShell: () => void): StatusBar {
  const left = document.createElement("div");
  left.className = "status-left";
  const right = document.createElement("div");
  right.className = "status-right";
  const shell = field("shell", "");
  // One button for the page's life, never moved while it is shown: a button made anew (or taken
  // out and put back) drops the keyboard focus a user had moved onto it, at every status change.
  // aria-disabled rather than `disabled` while the page is not connected, for the same reason: a
  // disabled button loses the focus too.
  const button = document.createElement("button");
  button.textContent = "New shell";
  button.addEventListener("click", () => {
    if (button.getAttribute("aria-disabled") !== "true") newShell();
  });

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
      button.setAttribute("aria-disabled", String(status.connection !== "open"));
      if (status.shell !== "exited") button.remove();
      else if (!button.isConnected) right.append(button);
    },
  };
}
