import type { Terminal } from "@xterm/xterm";
import type { ExecInfo } from "../protocol/index.ts";
import { createSessionConnection } from "./connection.ts";
import { formatNotice } from "./exit-text.ts";
import type { PageLocation } from "./socket-url.ts";
import type { TabStatus } from "./tab.ts";
import { createTerminalPane, shownTitle } from "./terminal-pane.ts";
import { createViewedExec, type ViewedExec } from "./viewed-exec.ts";
import type { ViewTicket } from "./view-link.ts";

/** A read-only view of one session's shell: a terminal that shows it and sends nothing to it. */
export interface Viewer {
  readonly term: Terminal;
  readonly status: TabStatus;
  retryNow(): void;
}

export interface ViewerOptions {
  parent: HTMLElement;
  page: PageLocation;
  ticket: ViewTicket;
  screenReaderMode: boolean;
  /** Anything in the status changed. */
  changed(): void;
}

/** The session's running terminal execs in hello.execs, oldest first: the shells a tab started. */
function runningShells(execs: readonly ExecInfo[]): string[] {
  return execs
    .filter((exec) => exec.pty && exec.state === "running")
    .sort((a, b) => a.startedAt - b.startedAt)
    .map((exec) => exec.id);
}

/**
 * Joins the ticket's session as a viewer (no token: its view secret) and shows its exec: replayed
 * from offset 0, then live, with acks of rendered output as a tab's shell sends them. After a drop it
 * rejoins and attaches from the first byte it does not have. Nothing it does reaches the shell: the
 * terminal takes no input (`disableStdin`), and the page sends only attach, detach, ack and ping.
 * The terminal takes the shell's terminal size as the server tells it (hello's ExecInfo `size`,
 * `started.pty`, `resized`), not the window's: the program draws for that size.
 */
export function createViewer(options: ViewerOptions): Viewer {
  const pane = createTerminalPane(options.parent, { screenReaderMode: options.screenReaderMode, disableStdin: true, cursorBlink: false });
  pane.element.classList.add("active", "held-size");
  const { term } = pane;
  const status: TabStatus = { connection: "connecting", detail: "", hello: undefined, shell: undefined, ending: undefined, title: undefined, viewing: true };
  const followedIds = new Set<string>();
  /**
   * Terminal execs of the session, oldest first: where the viewer goes once the followed one is over
   * (the tab's New shell). A new shell's `started` can come before the old one's `exit`, which waits
   * behind its output while this page is behind.
   */
  let shells: string[] = [];
  /** Each terminal exec's size as the server last said it (hello, started, resized). */
  const sizes = new Map<string, { cols: number; rows: number }>();
  let failureShown: string | undefined;

  const changed = () => {
    status.shell = followed.state;
    status.ending = followed.ending;
    options.changed();
  };
  const follow = (id: string): ViewedExec => {
    followedIds.add(id);
    return createViewedExec({ id, term, send: (message) => connection.send(message), changed });
  };
  let followed = follow(options.ticket.execId);
  /** Moves on to the session's new shell `id`, drawn at its terminal size. */
  const followNewShell = (id: string, size: { cols: number; rows: number } | undefined) => {
    term.write(formatNotice(`following the session's new shell, ${id}`));
    followed = follow(id);
    pane.holdSize(size);
  };
  /** Once the followed shell is over, the session's newest other one, replayed from its start. */
  const followNext = () => {
    const next = followed.state === "exited" ? shells.filter((id) => !followedIds.has(id)).at(-1) : undefined;
    if (next === undefined) return;
    followNewShell(next, sizes.get(next));
    followed.attach();
  };

  const connection = createSessionConnection({
    page: options.page,
    token: undefined,
    view: options.ticket,
    events: {
      state(state, detail) {
        status.connection = state;
        status.detail = detail;
        // The session is gone, or the link named none: said once, where the output was.
        if (state === "closed") term.write(formatNotice(detail));
        changed();
      },
      hello(hello) {
        status.hello = hello;
        shells = runningShells(hello.execs);
        for (const exec of hello.execs) if (exec.size) sizes.set(exec.id, exec.size);
        const info = hello.execs.find((exec) => exec.id === followed.id);
        if (info) {
          pane.holdSize(info.size);
          followed.attach();
        } else followed.missing();
        followNext();
        changed();
      },
      failed(why) {
        // Before the first hello only: the terminal would be blank otherwise.
        if (status.hello || why === failureShown) return;
        failureShown = why;
        term.write(formatNotice(`could not join the session: ${why}`));
      },
      message(message) {
        if (message.type === "started") {
          // An exec started after the viewer joined comes to it unasked, from its first byte: a new
          // shell is followed at once when the followed one is over, and otherwise taken up (by an
          // attach from 0) once it is; anything else is not this page's to show.
          if (message.pty) {
            shells.push(message.id);
            sizes.set(message.id, message.pty);
          }
          if (message.pty && followed.state === "exited") {
            followNewShell(message.id, message.pty);
            followed.started();
          } else if (message.id !== followed.id) connection.send({ type: "detach", id: message.id });
          return;
        }
        if (message.type === "resized") {
          sizes.set(message.id, { cols: message.cols, rows: message.rows });
          if (message.id === followed.id) pane.holdSize(message);
          return;
        }
        if ("id" in message && message.id === followed.id) {
          followed.handle(message);
          followNext();
        } else if (message.type === "error") console.warn(`bunker: ${message.code}: ${message.message}`);
      },
      output(chunk) {
        if (chunk.id === followed.id && chunk.stream === "stdout") followed.output(chunk.offset, chunk.bytes);
      },
    },
  });
  // A terminal larger than the window scrolls in its pane: its bottom, where a shell's prompt and
  // new output are, stays in view as output comes.
  term.onWriteParsed(() => {
    pane.element.scrollTop = pane.element.scrollHeight;
  });
  term.onTitleChange((title) => {
    status.title = shownTitle(title);
    options.changed();
  });

  return {
    term,
    status,
    retryNow: () => connection.retryNow(),
  };
}
