import { randomText } from "../common/random-text.ts";
import { createWorkspace } from "../workspace/create.ts";
import { SpareWorkspace } from "../workspace/spare-workspace.ts";
import { tokensMatch } from "./auth.ts";
import { viewSecretOf } from "./view-secret.ts";
import type { ServerOptions } from "./options.ts";
import { Session, type ServerCounters } from "./session.ts";

/**
 * Viewers one session may have at once: enough for the people watching an agent, few enough that
 * the view secret cannot fan one session's output out to sockets without end, or take every
 * connection an address may hold (the agent's, on a shared address) one viewer at a time.
 */
const MAX_VIEWERS_PER_SESSION = 16;

/** Session names: what a client may ask for with `?name=`. */
export const SESSION_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Why a socket could not get a session. */
export type SessionRefusal =
  | { code: "unknown_session"; message: string }
  /** `viewers`: the session's viewers are at MAX_VIEWERS_PER_SESSION, not the server at --max-sessions. */
  | { code: "limit_exceeded"; message: string; viewers?: true }
  | { code: "bad_message"; message: string }
  | { code: "internal"; message: string };

/** What a socket asked for in its URL and subprotocols. */
export type SessionRequest =
  | { kind: "new" }
  | { kind: "resume"; id: string; secret: string | undefined }
  /** A viewer of session `id`, with its view secret (viewer-messages.ts says what a viewer may do). */
  | { kind: "view"; id: string; secret: string }
  | { kind: "named"; name: string }
  /**
   * A new session with an id the client chose (`?session=<id>&create=1`): behind a load balancer
   * that hashes on the session id, the first connection then lands where every resume will. It
   * gets a resume secret like any session; an id already in use is refused as a failed resume is.
   */
  | { kind: "create"; id: string };

/**
 * The one refusal for an id the server does not hold and for a missing or wrong secret (and for a
 * taken id on create), so that the answer does not tell a live id from an unknown one.
 */
function unknownSession(id: string): SessionRefusal {
  return { code: "unknown_session", message: `no session ${JSON.stringify(id)} to resume here with that secret: it ended, lives on another host, or the secret is wrong` };
}

/**
 * Every session of a server, by id. Sessions outlive sockets, so the registry is bounded: at most
 * `maxSessions`, and sessions end themselves after their TTLs (see Session).
 */
export class SessionRegistry {
  readonly #sessions = new Map<string, Session>();
  /** One hooks object for every session: an idle session should cost little. */
  readonly #hooks = {
    onEnd: (ended: Session) => {
      if (this.#sessions.get(ended.id) === ended) this.#sessions.delete(ended.id);
    },
  };

  /** The next new session's workspace, made ahead (spare-workspace.ts). */
  readonly #spare: SpareWorkspace;

  constructor(
    private readonly options: ServerOptions,
    private readonly counters: ServerCounters,
  ) {
    this.#spare = new SpareWorkspace(options.workspaceRoot, options.runAs);
    // After the event: off the path to "listening".
    setTimeout(() => void this.#spare.fill(), 0);
  }

  get size(): number {
    return this.#sessions.size;
  }

  /**
   * The sessions held, as /metrics counts them: live (a socket joined, viewers not counted) or detached (none). Counted
   * from the registry itself, which lets go of a session as it ends: a separate set of sessions,
   * pruned only when /metrics was scraped, held every ended session's records and output on a
   * server nobody scraped (found by a soak: 200 closed sessions of 256 KiB each kept 50 MB).
   */
  countByConnection(): { live: number; detached: number } {
    let live = 0;
    for (const session of this.#sessions.values()) if (session.connectionCount > 0) live++;
    return { live, detached: this.#sessions.size - live };
  }

  /**
   * The live session `id` if `secret` is its resume secret. Undefined alike for no such session and
   * for a missing or wrong secret, so that callers give both one answer and ids cannot be probed.
   */
  withSecret(id: string, secret: string | undefined): Session | undefined {
    return this.#liveWithSecret(id, secret, (session) => session?.resumeSecret ?? "");
  }

  /** The live session `id` if `secret` is its view secret; undefined alike otherwise (see withSecret). */
  withViewSecret(id: string, secret: string): Session | undefined {
    return this.#liveWithSecret(id, secret, (session) => session?.viewSecret ?? viewSecretOf(""));
  }

  /** The live session `id` if `secret` is what `expectedOf` says it must be (for no session, what an empty one's would be). */
  #liveWithSecret(id: string, secret: string | undefined, expectedOf: (session: Session | undefined) => string): Session | undefined {
    const session = this.#sessions.get(id);
    // Derived and compared even when there is no session: the same work either way, so that the time
    // taken does not tell a live id (a viewer needs no token to ask; found by a review of viewers).
    const matches = tokensMatch(secret ?? "", expectedOf(session));
    return session && !session.ended && secret !== undefined && matches ? session : undefined;
  }

  /**
   * The session a file request over HTTP acts on: any live one, by id. The route takes the token
   * alone, as its issue asks of it for curl users ("with the token"); the token is the server's one
   * credential and its holders are trusted (SECURITY.md, threat model). The id only routes.
   */
  forFileRequest(id: string): Session | undefined {
    const session = this.#sessions.get(id);
    return session && !session.ended ? session : undefined;
  }

  /** The session a socket gets, or why it gets none. */
  open(request: SessionRequest): { session: Session; resumed: boolean; viewer?: true } | SessionRefusal {
    switch (request.kind) {
      case "new":
        return this.#create(randomText(16, "base64url"), undefined);
      case "resume": {
        const session = this.withSecret(request.id, request.secret);
        return session ? { session, resumed: true } : unknownSession(request.id);
      }
      case "view": {
        const session = this.withViewSecret(request.id, request.secret);
        if (!session) return unknownSession(request.id);
        if (session.viewerCount >= MAX_VIEWERS_PER_SESSION) {
          return { code: "limit_exceeded", viewers: true, message: `the session already has ${MAX_VIEWERS_PER_SESSION} viewers, the most it may; try again when one has left` };
        }
        return { session, resumed: true, viewer: true };
      }
      case "create": {
        if (!SESSION_NAME_PATTERN.test(request.id)) {
          return { code: "bad_message", message: `session: ${JSON.stringify(request.id.slice(0, 80))} must be 1 to 64 of A-Z a-z 0-9 . _ -` };
        }
        // A taken id is refused in a failed resume's words: that a free id creates a session is
        // inherent, but the refusal adds nothing to tell a live id from any other refused one.
        if (this.#sessions.has(request.id)) return unknownSession(request.id);
        return this.#create(request.id, undefined);
      }
      case "named": {
        if (!SESSION_NAME_PATTERN.test(request.name)) {
          return { code: "bad_message", message: `name: ${JSON.stringify(request.name.slice(0, 80))} must be 1 to 64 of A-Z a-z 0-9 . _ -` };
        }
        const session = this.#sessions.get(request.name);
        if (session) {
          // An anonymous session whose random id happens to equal the name is not joinable by name.
          if (session.name !== request.name || session.ended) return { code: "unknown_session", message: `session name ${JSON.stringify(request.name)} is taken` };
          return { session, resumed: true };
        }
        return this.#create(request.name, request.name);
      }
    }
  }

  #create(id: string, name: string | undefined): { session: Session; resumed: false } | SessionRefusal {
    if (this.#sessions.size >= this.options.limits.maxSessions) {
      return { code: "limit_exceeded", message: `the server holds ${this.options.limits.maxSessions} sessions, the most it may; try again later` };
    }
    let workspace;
    try {
      workspace = createWorkspace(this.options.workspaceRoot, name === undefined ? id : `named:${name}`, this.options.runAs, this.#spare);
    } catch (error) {
      return { code: "internal", message: `cannot create the workspace: ${(error as Error).message}` };
    }
    const session = new Session(id, name, randomText(24, "base64url"), workspace, this.options, this.counters, this.#hooks);
    this.#sessions.set(id, session);
    return { session, resumed: false };
  }

  /** Ends every session (server shutdown); resolves when every process tree is gone. */
  async closeAll(): Promise<void> {
    this.#spare.dispose();
    await Promise.allSettled([...this.#sessions.values()].map((session) => session.close("shutdown")));
  }
}
