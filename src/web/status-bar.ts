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

/**
 * Renders the active tab's status: connection state, sandbox backend, session id and host on the
 * left, the shell's state (and a New shell button once it has exited) on the right. The bar's
 * data-connection, data-shell and data-session attributes say the same for tests and styles.
 */
export function renderStatusBar(bar: HTMLElement, status: TabStatus | undefined, newShell: () => void): void {
  if (!status) {
    bar.replaceChildren();
    return;
  }
  bar.dataset["connection"] = status.connection;
  bar.dataset["shell"] = status.shell ?? "none";
  const hello = status.hello;
  bar.dataset["session"] = hello?.session ?? "";
  const left = document.createElement("div");
  left.className = "status-left";
  // A missing or wrong token is explained in the detail itself (connect-failure.ts).
  left.append(field(`state state-${status.connection}`, status.connection, status.detail));
  if (status.connection !== "open" && status.detail) left.append(field("detail", status.detail));
  if (hello) {
    const sandbox = hello.sandbox;
    const notEnforced = sandbox.notEnforced?.length ? ` Not enforced: ${sandbox.notEnforced.join("; ")}` : "";
    left.append(
      field(`backend backend-${sandbox.backend}`, `sandbox ${sandbox.backend}`, `${sandbox.reason ?? ""}${notEnforced}`.trim()),
      field("session", `session ${hello.session}`, hello.workspace),
      field("host", `host ${hello.host}`),
    );
  }
  const right = document.createElement("div");
  right.className = "status-right";
  if (status.shell === "exited") {
    right.append(field("shell", status.ending ?? "shell exited"));
    const button = document.createElement("button");
    button.textContent = "New shell";
    button.disabled = status.connection !== "open";
    button.addEventListener("click", newShell);
    right.append(button);
  } else if (status.shell && status.connection !== "open") {
    // What the server last said; it may have ended the shell since (a restart kills every sandbox).
    right.append(field("shell", `shell ${status.shell} when last connected`));
  } else if (status.shell) {
    right.append(field("shell", `shell ${status.shell}`));
  }
  bar.replaceChildren(left, right);
}
