import { CLOSE_CODES, decodeServerMessage, newSessionId, type ClientMessage, type HelloMessage, type ServerMessage } from "../protocol/index.ts";
import { reconnectDelayMs } from "./backoff.ts";
import { watchCloseConfirmation } from "./close-confirmation.ts";
import { explainConnectFailure, fetchHealthStatus } from "./connect-failure.ts";
import { createBinaryFrameReader, type BinaryOutputChunk } from "./frame-reader.ts";
import { PAGE_DETACH_TTL_MS, buildSocketUrl, buildSubprotocols, buildViewerSubprotocols, type PageLocation, type ResumeTicket } from "./socket-url.ts";
import type { ViewTicket } from "./view-link.ts";
import { DEFAULT_KEEPALIVE, startKeepalive } from "../client/keepalive.ts";

/** Where a session's connection stands, as the status bar shows it. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** How a `hello` relates to the session the page asked for. */
export type HelloOutcome =
  | { kind: "new" }
  | { kind: "resumed" }
  /** The page asked for `lostSession` and got a new session instead. */
  | { kind: "replaced"; lostSession: string; why: string };

/** What a connection reports to its tab. */
export interface ConnectionEvents {
  state(state: ConnectionState, detail: string): void;
  hello(hello: HelloMessage, outcome: HelloOutcome): void;
  /** Every JSON message after `hello`. */
  message(message: ServerMessage): void;
  /** Output that came as binary frames. */
  output(chunk: BinaryOutputChunk): void;
  /** An attempt ended before the server's hello; `why` is the likely cause, in words. */
  failed(why: string): void;
}

/** One session, kept connected across network drops. */
export interface SessionConnection {
  readonly state: ConnectionState;
  /** The session to resume, once a `hello` has named it. */
  readonly ticket: ResumeTicket | undefined;
  /** Sends when connected and greeted; false (and nothing sent) otherwise. */
  send(message: ClientMessage): boolean;
  /** Skips the wait of a scheduled reconnect (the browser is back online). */
  retryNow(): void;
  /**
   * Ends the session on the server (`close`) and stops reconnecting. `undelivered` gets the session
   * when the page could not send `close` (it is not connected), or sent it over a socket that then
   * closed without the server's confirmation, for the caller to end once it can.
   */
  end(undelivered: (ticket: ResumeTicket) => void): void;
}

export interface SessionConnectionOptions {
  page: PageLocation;
  token: string | undefined;
  /** A session to resume first, e.g. one this browser tab had before a reload. */
  resume?: ResumeTicket | undefined;
  /**
   * Join this session read-only, with its view secret and without the token, instead of opening or
   * resuming one. A viewer rejoins it after a drop, and stops (`closed`) once the session is gone.
   */
  view?: Pick<ViewTicket, "session" | "viewSecret"> | undefined;
  events: ConnectionEvents;
}

/** Why a greeted socket closed, in words. */
function describeClose(code: number, reason: string): string {
  if (code === CLOSE_CODES.goingAway) return "the server is shutting down";
  if (code === 1006) return "connection lost";
  return `closed (${code}${reason ? ` ${reason}` : ""})`;
}

/** Why a viewer's session is gone: it ended, its link was revoked, or (never greeted) the link does not name one. */
function describeViewEnd(code: number, reason: string, everGreeted: boolean): string {
  if (code === CLOSE_CODES.sessionClosed) return reason === "session expired" ? "session ended (it expired: no full client was joined to it)" : "session ended";
  if (reason === "view revoked") return "this read-only link was revoked: a client of the session asked for a new one";
  // Refused on coming back: the server answers an ended session and a revoked secret alike.
  if (everGreeted) return "session ended, or this read-only link was revoked, while the page was away";
  return "this read-only link is wrong or has expired: the server has no such session to show (or the link's secret is not that session's)";
}

/**
 * Opens a session and keeps it: after a drop it reconnects with backoff and resumes the session
 * with its id (`?session=`) and resume secret (a subprotocol), and `&replaces=` the dropped socket's
 * `connection`: the server cuts that socket before it greets the new one, so stdin the page sent
 * into it can no longer arrive after the resume has sent it again (see shell.ts). When the server
 * no longer has the session (`unknown_session`, close 4404 or 4000) it opens a new one at once and
 * says so in the next `hello` outcome. With `view`, it joins that session as a viewer instead (see
 * the option).
 */
export function createSessionConnection(options: SessionConnectionOptions): SessionConnection {
  const { events } = options;
  let ticket = options.resume;
  /** The `connection` of the last greeted socket, for the next resume to replace. */
  let replaces: string | undefined;
  let lost: { session: string; why: string } | undefined;
  let state: ConnectionState = "connecting";
  let socket: WebSocket | undefined;
  let greeted = false;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  const { view } = options;
  /** A viewer greeted once: a later unknown_session means that the session ended, not a bad link. */
  let everGreeted = false;

  const setState = (next: ConnectionState, detail: string) => {
    state = next;
    events.state(next, detail);
  };

  const onHello = (hello: HelloMessage) => {
    if (view) {
      // Nothing to resume or replace: a viewer comes back with the view secret alone.
      const again = everGreeted;
      everGreeted = greeted = true;
      attempt = 0;
      setState("open", again ? "viewing again" : "viewing");
      events.hello(hello, { kind: "resumed" });
      return;
    }
    const asked = ticket;
    // The page joins as a full client, whose hello always has a resume secret.
    ticket = { session: hello.session, resumeSecret: hello.resumeSecret ?? "" };
    replaces = hello.connection;
    let outcome: HelloOutcome = { kind: "new" };
    if (asked && hello.resumed && hello.session === asked.session) outcome = { kind: "resumed" };
    else if (asked) outcome = { kind: "replaced", lostSession: asked.session, why: "the server did not resume it" };
    else if (lost) outcome = { kind: "replaced", lostSession: lost.session, why: lost.why };
    lost = undefined;
    greeted = true;
    attempt = 0;
    setState("open", outcome.kind === "resumed" ? "resumed" : "connected");
    events.hello(hello, outcome);
  };

  const scheduleRetry = (why: string) => {
    const delayMs = reconnectDelayMs(attempt++);
    setState("reconnecting", `${why}; retrying in ${Math.ceil(delayMs / 1000)} s`);
    retryTimer = setTimeout(open, delayMs);
  };
  /** A socket that closed before hello: find out why (the browser does not say), then retry. */
  const retryAfterFailure = () => {
    setState("reconnecting", "could not connect");
    void explainConnectFailure(fetchHealthStatus, view ? "view" : options.token !== undefined ? "token" : "none").then((why) => {
      if (ended || socket !== undefined) return;
      events.failed(why);
      scheduleRetry(why);
    });
  };

  function open(): void {
    retryTimer = undefined;
    greeted = false;
    setState("connecting", view ? `joining session ${view.session} read-only` : ticket ? `resuming session ${ticket.session}` : "opening a new session");
    let ws: WebSocket;
    try {
      ws = view
        ? new WebSocket(buildSocketUrl(options.page, view.session), buildViewerSubprotocols(view.viewSecret))
        : new WebSocket(buildSocketUrl(options.page, ticket?.session, newSessionId(), replaces, PAGE_DETACH_TTL_MS), buildSubprotocols(options.token, ticket?.resumeSecret));
    } catch {
      // A token with characters a subprotocol cannot hold: retrying would fail the same way. The
      // browser's message quotes the subprotocol, token and all, so it is not shown.
      ended = true;
      const why = "the token holds characters a WebSocket subprotocol cannot carry; open the address the server printed";
      setState("closed", why);
      events.failed(why);
      return;
    }
    ws.binaryType = "arraybuffer";
    const frames = createBinaryFrameReader();
    let rejection: string | undefined;
    // A browser cannot see WebSocket pings: a connection that a NAT, proxy or sleeping laptop
    // dropped without a FIN looks like a quiet one, and the page would show "connected" over a dead
    // socket forever. It asks with `ping` after a silence and treats no answer as a drop (which
    // also bounds an attempt that never gets its hello). Closing such a socket can take the browser
    // a long time, so the page lets go of it at once and reconnects.
    const keepalive = startKeepalive(DEFAULT_KEEPALIVE, {
      ping: () => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ping" } satisfies ClientMessage));
      },
      dead: (why) => {
        ws.onclose = null;
        ws.close();
        closed(1006, why);
      },
    });
    ws.onmessage = (event: MessageEvent) => {
      // A socket the page let go of (the keepalive gave up on it) may still deliver while it closes.
      if (socket !== ws) return;
      keepalive.received();
      if (event.data instanceof ArrayBuffer) {
        const chunk = frames.read(new Uint8Array(event.data));
        if (chunk) events.output(chunk);
        return;
      }
      const decoded = decodeServerMessage(String(event.data));
      if (!decoded.ok) {
        // A later protocol version may send what this page does not know; v1 clients ignore it.
        console.warn(`bunker: ignored a server message: ${decoded.problem}`);
        return;
      }
      const message = decoded.message;
      if (message.type === "hello") onHello(message);
      else if (message.type === "pong") return;
      else if (!greeted && message.type === "error" && message.code === "unknown_session") rejection = message.message;
      else events.message(message);
    };
    ws.onclose = (event: CloseEvent) => closed(event.code, event.reason);

    /** The socket is gone (closed, or given up by the keepalive): resume, open anew, or retry later. */
    function closed(code: number, reason: string): void {
      keepalive.stop();
      if (socket !== ws) return;
      socket = undefined;
      const wasGreeted = greeted;
      greeted = false;
      if (ended) return;
      const sessionGone = rejection !== undefined || code === CLOSE_CODES.unknownSession || code === CLOSE_CODES.sessionClosed;
      if (sessionGone && view) {
        ended = true;
        setState("closed", describeViewEnd(code, reason, everGreeted));
        return;
      }
      if (sessionGone && ticket) {
        lost = { session: ticket.session, why: rejection ?? (reason || "the session ended") };
        ticket = undefined;
        replaces = undefined;
        open();
        return;
      }
      if (wasGreeted) scheduleRetry(describeClose(code, reason));
      else retryAfterFailure();
    }
    socket = ws;
  }

  open();
  return {
    get state() {
      return state;
    },
    get ticket() {
      return ticket;
    },
    send(message) {
      if (!socket || !greeted || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
    retryNow() {
      if (retryTimer === undefined) return;
      clearTimeout(retryTimer);
      open();
    },
    end(undelivered) {
      if (ended) return;
      ended = true;
      clearTimeout(retryTimer);
      const ws = socket;
      const ending = ticket;
      const endLater = () => {
        if (ending) undelivered(ending);
      };
      if (ws && greeted && ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: "close" } satisfies ClientMessage));
        // The server closes the socket once the session has ended; until then it stays open.
        watchCloseConfirmation(ws, endLater);
      } else {
        ws?.close(1000, "tab closed");
        endLater();
      }
      socket = undefined;
      setState("closed", "session ended");
    },
  };
}
