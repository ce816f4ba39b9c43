/** The small parts of a session kept apart from Session itself: the shapes it shares with the server and its sockets, its rarely used state, its policy. */
import type { WatchBudget } from "../files/watch-budget.ts";
import type { SandboxPolicy } from "../sandbox/types.ts";
import type { ConnectionSink } from "./connection-sink.ts";
import type { ServerOptions } from "./options.ts";
import type { Session } from "./session.ts";

/** Counts shared by every session of a server, for server-wide limits. */
export interface ServerCounters {
  /** Execs running, persistent-shell commands included (the execs_running gauge). */
  runningExecs: number;
  /**
   * Slots taken against --max-execs: a running exec outside a shell, or a live persistent shell
   * (each a sandbox with up to --limit-processes processes); a shell's command rides on its shell's.
   */
  execSlots: number;
  /**
   * The output logs of the execs running now, whose bytes so far /metrics adds to those of ended
   * execs: a command streaming for hours would otherwise count nothing until it ends.
   */
  readonly runningOutput: Set<RunningOutput>;
  /** Directories the file watches of every session follow, each an inotify watch of the server's uid. */
  readonly watchedDirectories: WatchBudget;
}

/** How many bytes each stream of a running exec has produced so far. */
export type RunningOutput = Readonly<Record<"stdout" | "stderr", { readonly end: number }>>;

/** One socket joined to a session. */
export interface SessionConnection {
  readonly sink: ConnectionSink;
  /** Closes the socket (after the session ended, say). */
  close(code: number, reason: string): void;
}

/** How a session tells its registry that it has ended. */
export interface SessionHooks {
  onEnd(session: Session): void;
}

/** What few sessions need, made on first use (Session's #rare): a field each on Session cost every session. */
export interface SessionRarities {
  /** The detach TTLs the joined sockets asked for (`?detachTtlMs=`). */
  askedTtls?: Map<SessionConnection, number>;
  /**
   * How many joined sockets are viewers (their sink says `viewer`: they joined with the view
   * secret): read-only (viewer-messages.ts), and they do not hold the session: its TTLs run as if
   * they were not there, and when it ends they are closed with it.
   */
  viewerCount?: number;
  /** How many times the view secret was revoked (`view.revoke`; see view-secret.ts). */
  viewGeneration?: number;
  /** The directories this session's file watches follow. */
  watchBudget?: WatchBudget;
}

/** The sandbox policy of a session's commands, before an exec narrows it (exec-policy.ts). */
export function sessionPolicy(workspace: string, options: ServerOptions): SandboxPolicy {
  return {
    workspace,
    allowNetwork: options.allowNetwork,
    tmpSizeBytes: options.tmpSizeBytes,
    allowRead: options.allowRead,
    allowWrite: options.allowWrite,
    denyRead: options.denyRead,
    protectPaths: options.protectPaths,
  };
}
