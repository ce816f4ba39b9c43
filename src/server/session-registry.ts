import { randomBytes } from "node:crypto";
import { createWorkspace } from "../workspace/create.ts";
import { tokensMatch } from "./auth.ts";
import type { ServerOptions } from "./options.ts";
import { Session, type ServerCounters } from "./session.ts";

/** Session names: what a client may ask for with `?name=`. */
export const SESSION_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Why a socket could not get a session. */
export type SessionRefusal =
  | { code: "unknown_session"; message: string }
  | { code: "limit_exceeded"; message: string }
  | { code: "bad_message"; message: string }
  | { code: "internal"; message: string };

/** What a socket asked for in its URL and subprotocols. */
export type SessionRequest =
  | { kind: "new" }
  | { kind: "resume"; id: string; secret: string | undefined }
  | { kind: "named"; name: string }
  /**
   * A new session with an id the client chose (`?session=<id>&create=1`): behind a load balancer
   * that hashes on the session id, the first connection then lands where every resume will. It
   * gets a resume secret like any session; an id already in use is refused.
   */
  | { kind: "create"; id: string };

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

  constructor(
    private readonly options: ServerOptions,
    private readonly counters: ServerCounters,
  ) {}

  get size(): number {
    return this.#sessions.size;
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  /** The session a socket gets, or why it gets none. */
  open(request: SessionRequest): { session: Session; resumed: boolean } | SessionRefusal {
    switch (request.kind) {
      case "new":
        return this.#create(randomBytes(16).toString("base64url"), undefined);
      case "resume": {
        const session = this.#sessions.get(request.id);
        // One answer for "no such session" and "wrong secret", so that ids cannot be probed.
        if (!session || session.ended || request.secret === undefined || !tokensMatch(request.secret, session.resumeSecret)) {
          return { code: "unknown_session", message: `no session ${JSON.stringify(request.id)} to resume here with that secret: it ended, lives on another host, or the secret is wrong` };
        }
        return { session, resumed: true };
      }
      case "create": {
        if (!SESSION_NAME_PATTERN.test(request.id)) {
          return { code: "bad_message", message: `session: ${JSON.stringify(request.id.slice(0, 80))} must be 1 to 64 of A-Z a-z 0-9 . _ -` };
        }
        if (this.#sessions.has(request.id)) return { code: "unknown_session", message: `session id ${JSON.stringify(request.id)} is taken` };
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
      workspace = createWorkspace(this.options.workspaceRoot, name === undefined ? id : `named:${name}`, this.options.runAs);
    } catch (error) {
      return { code: "internal", message: `cannot create the workspace: ${(error as Error).message}` };
    }
    const session = new Session(id, name, randomBytes(24).toString("base64url"), workspace, this.options, this.counters, this.#hooks);
    this.#sessions.set(id, session);
    return { session, resumed: false };
  }

  /** Ends every session (server shutdown); resolves when every process tree is gone. */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.#sessions.values()].map((session) => session.close("shutdown")));
  }
}
