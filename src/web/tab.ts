import type { PageLocation, ResumeTicket } from "./socket-url.ts";
import type { Terminal } from "@xterm/xterm";
import type { HelloMessage } from "../protocol/index.ts";
import { createSessionConnection, type ConnectionState, type HelloOutcome } from "./connection.ts";
import { formatNotice } from "./exit-text.ts";
import type { SavedTab } from "./saved-tabs.ts";
import { createShell, type Shell, type ShellState } from "./shell.ts";
import { newShellId } from "./shell-command.ts";
import { createTerminalPane, shownTitle } from "./terminal-pane.ts";
import type { ViewTicket } from "./view-link.ts";

/** What the status bar shows for a tab. */
export interface TabStatus {
  connection: ConnectionState;
  /** The connection state in words: why it dropped, when it retries. */
  detail: string;
  /** The session's latest hello: id, host, sandbox. */
  hello: HelloMessage | undefined;
  shell: ShellState | undefined;
  /** How the shell ended, once it has. */
  ending: string | undefined;
  /** The title the program set (`ESC ] 0 ; title BEL`, as shells and vim do), as ttyd shows it. */
  title: string | undefined;
  /** A read-only viewer's page (viewer.ts), which can neither type nor start anything. */
  viewing?: boolean;
}

/**
 * What became of a `view.revoke`: done (how many viewers were cut), never sent (the page was not
 * connected), or sent with no answer before the socket went (the server may have revoked or not).
 */
export type RevokeOutcome = { kind: "revoked"; viewersCut: number } | { kind: "not_sent" } | { kind: "unanswered" };

/** One tab: a terminal, the session behind it, and the shell in it. */
export interface Tab {
  readonly term: Terminal;
  /** The element the terminal is drawn in. */
  readonly pane: HTMLElement;
  readonly status: TabStatus;
  /** What a reload needs to resume this tab; undefined before the first hello. */
  readonly saved: SavedTab | undefined;
  /** What a read-only link to this tab's shell names; undefined before a hello with a view secret. */
  readonly viewTicket: ViewTicket | undefined;
  /** Shows the terminal; `focusTerminal` gives it the keyboard too. */
  show(focusTerminal: boolean): void;
  hide(): void;
  /** Starts a shell in place of one that has exited. */
  newShell(): void;
  /**
   * Revokes the session's read-only links (`view.revoke`): resolves with how many viewers were cut,
   * once `viewTicket` holds the new secret; undefined when the page is not connected or the socket
   * went before the answer.
   */
  revokeViewers(): Promise<RevokeOutcome>;
  retryNow(): void;
  /**
   * Ends the session on the server and removes the tab. `undelivered` gets the session when the
   * page could not tell the server (see SessionConnection.end), for the caller to end once it can.
   */
  close(undelivered: (ticket: ResumeTicket) => void): void;
}

export interface TabOptions {
  parent: HTMLElement;
  page: PageLocation;
  token: string | undefined;
  /** A session (and shell) this browser tab had before a reload. */
  restore?: SavedTab | undefined;
  /** xterm.js keeps the screen's text in the DOM for screen readers, and reads new output out. */
  screenReaderMode: boolean;
  /** Anything in the status or the saved form changed. */
  changed(): void;
}

/** Creates a tab in `parent` and connects it. Inactive tabs stay laid out (hidden), so they fit too. */
export function createTab(options: TabOptions): Tab {
  const pane = createTerminalPane(options.parent, { screenReaderMode: options.screenReaderMode });
  const { term, element } = pane;

  const status: TabStatus = { connection: "connecting", detail: "", hello: undefined, shell: undefined, ending: undefined, title: undefined };
  let shell: Shell | undefined;
  /** The last "could not connect" written into the terminal, so a retry that fails alike adds no line. */
  let failureShown: string | undefined;
  /** A `view.revoke` sent and not answered yet. */
  let revocation: { id: string; settle(outcome: RevokeOutcome): void } | undefined;
  let revocations = 0;

  const changed = () => {
    status.shell = shell?.state;
    status.ending = shell?.ending;
    options.changed();
  };
  const makeShell = (id: string) => createShell({ id, term, send: (message) => connection.send(message), changed });
  const startShell = () => {
    shell = makeShell(newShellId());
    shell.start();
    changed();
  };
  if (options.restore?.shellId) shell = makeShell(options.restore.shellId);

  const onHello = (hello: HelloMessage, outcome: HelloOutcome) => {
    status.hello = hello;
    switch (outcome.kind) {
      case "new":
        startShell();
        return;
      case "resumed": {
        if (shell?.state === "exited") return changed();
        const info = shell && hello.execs.find((exec) => exec.id === shell?.id);
        if (shell && info) shell.attach(info);
        else startShell();
        return;
      }
      case "replaced":
        term.write(formatNotice(`session ${outcome.lostSession} could not be resumed (${outcome.why}); this is a new session, ${hello.session}, with a new workspace`));
        startShell();
        return;
      default: {
        const unknown: never = outcome;
        throw new Error(`unknown hello outcome ${JSON.stringify(unknown)}`);
      }
    }
  };

  const connection = createSessionConnection({
    page: options.page,
    token: options.token,
    resume: options.restore && { session: options.restore.session, resumeSecret: options.restore.resumeSecret },
    events: {
      state(state, detail) {
        status.connection = state;
        status.detail = detail;
        // The answer went with the socket: whether the server revoked is unknown, the page says so.
        if (state !== "open") revocation?.settle({ kind: "unanswered" });
        changed();
      },
      hello: onHello,
      failed(why) {
        // Only before the first session: then the terminal would be blank. Later, the status bar says
        // it, and a line written into a full-screen program's display would spoil it.
        if (status.hello || why === failureShown) return;
        failureShown = why;
        term.write(formatNotice(`could not open a session: ${why}`));
      },
      message(message) {
        // Revoked here or by another client of the session: the next read-only link carries the new secret.
        if (message.type === "view.revoked") {
          if (status.hello) status.hello = { ...status.hello, viewSecret: message.viewSecret };
          if (revocation && message.id === revocation.id) revocation.settle({ kind: "revoked", viewersCut: message.viewersCut });
          changed();
        } else if (shell && "id" in message && message.id === shell.id) shell.handle(message);
        else if (message.type === "error") console.warn(`bunker: ${message.code}: ${message.message}`);
      },
      output(chunk) {
        if (shell && chunk.id === shell.id && chunk.stream === "stdout") shell.output(chunk.offset, chunk.bytes);
      },
    },
  });

  const newShell = () => {
    if (connection.state !== "open" || (shell && shell.state !== "exited")) return;
    startShell();
    // From the status bar's button too: the keystrokes that follow are for the new shell.
    term.focus();
  };
  term.onData((data) => {
    if (!shell || shell.state === "exited") {
      if (data.includes("\r")) newShell();
      return;
    }
    shell.input(data);
  });
  term.onBinary((data) => shell?.inputBinary(data));
  term.onTitleChange((title) => {
    status.title = shownTitle(title);
    options.changed();
  });
  term.onResize((size) => shell?.resize(size));

  return {
    term,
    pane: element,
    status,
    get saved() {
      const ticket = connection.ticket;
      return ticket && { ...ticket, ...(shell && { shellId: shell.id }) };
    },
    get viewTicket() {
      const hello = status.hello;
      return hello?.viewSecret !== undefined && shell ? { session: hello.session, viewSecret: hello.viewSecret, execId: shell.id } : undefined;
    },
    show(focusTerminal) {
      element.classList.add("active");
      pane.fit();
      if (focusTerminal) term.focus();
    },
    hide() {
      element.classList.remove("active");
    },
    newShell,
    revokeViewers() {
      // An earlier one still waiting gets its answer no more: this one's id is the one matched.
      revocation?.settle({ kind: "unanswered" });
      return new Promise((resolve) => {
        const id = `view-revoke-${++revocations}`;
        const pending = {
          id,
          settle(outcome: RevokeOutcome) {
            if (revocation === pending) revocation = undefined;
            resolve(outcome);
          },
        };
        revocation = pending;
        if (!connection.send({ type: "view.revoke", id })) pending.settle({ kind: "not_sent" });
      });
    },
    retryNow: () => connection.retryNow(),
    close(undelivered) {
      connection.end(undelivered);
      pane.dispose();
    },
  };
}
