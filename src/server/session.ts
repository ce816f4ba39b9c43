import { chownSync, mkdirSync } from "node:fs";
import type { ClientMessage, ErrorCode, ExecInfo, ExecMessage, ServerMessage } from "../protocol/index.ts";
import { CLOSE_CODES } from "../protocol/index.ts";
import { isFileRequest } from "../protocol/file-messages.ts";
import type { Workspace } from "../workspace/create.ts";
import { createFileHandler, type FileHandler } from "./file-handler.ts";
import { fileLimitsForFrames } from "../files/limits.ts";
import { viewerRefusal } from "./viewer-messages.ts";
import { viewSecretOf } from "./view-secret.ts";
import { createWatchBudget, MAX_WATCHED_DIRECTORIES_PER_SESSION } from "../files/watch-budget.ts";
import type { ServerOptions } from "./options.ts";
import { launchExec, type LaunchContext } from "./exec-launch.ts";
import { SessionClock } from "./session-clock.ts";
import { SessionExecs } from "./session-execs.ts";
import { SessionShells } from "./session-shells.ts";
import { SmallMap } from "./small-map.ts";
import { handleExecControl, type ExecControlContext } from "./exec-controls.ts";
import { execAdmissionProblem } from "./exec-admission.ts";
import { removeSessionWorkspace, sweepGitRedirects } from "./workspace-upkeep.ts";
import { sessionPolicy, type ServerCounters, type SessionConnection, type SessionHooks, type SessionRarities } from "./session-parts.ts";
import { fingerprintOf } from "./exec-record.ts";
import { SessionNetwork } from "./session-network.ts";

export type { ServerCounters, SessionConnection, SessionHooks } from "./session-parts.ts";

/**
 * One session: a workspace, the execs run in it (running or finished), and the sockets joined to
 * it. It outlives its sockets: with none joined, its commands keep running for the detach TTL, and
 * an idle session stays for the idle TTL, so that a client can resume it.
 */
export class Session {
  /** Made on the first exec, as the clock on the first leave: an idle session should cost little (3.8 KiB). */
  #execs: SessionExecs | undefined;
  /** Persistent shells, made on the first shell exec (most sessions have none). */
  #shells: SessionShells | undefined;
  #controls: ExecControlContext | undefined;
  /** Joined sockets, each with its file handler once it has asked for one (most never do). */
  readonly #connections = new SmallMap<SessionConnection, FileHandler | null>();
  /** What launchExec needs of this session, made on the first exec. */
  #launchContext: LaunchContext | undefined;
  /** The network namespace its bwrap commands share, made with the first (session-network.ts). */
  #network: SessionNetwork | undefined;
  #ended = false;
  #closing: Promise<void> | undefined;
  #clock: SessionClock | undefined;
  /**
   * How long the commands run on with no socket joined: what the last socket to leave asked for
   * (`?detachTtlMs=`, a browser page), else the server's --detach-ttl. Per socket, so that a viewer
   * that asked for a minute does not cut the TTL of the agent that leaves after it (found by a review).
   */
  #detachTtlMs: number;
  /**
   * What few sessions need, in one object made by the first that does: a field each on every
   * session took an idle session's heap from 1,357 to 1,421 bytes (measured: one field more than
   * the object holds inline, and it grows storage of its own).
   */
  #rare: SessionRarities | undefined;

  constructor(
    readonly id: string,
    readonly name: string | undefined,
    readonly resumeSecret: string,
    readonly workspace: Workspace,
    private readonly options: ServerOptions,
    private readonly counters: ServerCounters,
    private readonly hooks: SessionHooks,
  ) {
    this.#detachTtlMs = options.detachTtlMs;
    const tempDir = options.sandbox.backend.tempDir(sessionPolicy(workspace.path, options));
    if (tempDir.startsWith(`${workspace.path}/`)) {
      mkdirSync(tempDir, { recursive: true, mode: 0o700 });
      if (options.runAs) chownSync(tempDir, options.runAs.uid, options.runAs.gid);
    }
  }

  /**
   * Execs still running, and live persistent shells: each holds an exec slot, and a shell's
   * background jobs (a server started with `&`) are processes that a detached session keeps
   * running for its detach TTL, not for the idle TTL of a session with nothing running.
   */
  get runningCount(): number {
    return this.#execs?.slots ?? 0;
  }

  /** Viewers joined (see SessionRarities.viewerCount). */
  get viewerCount(): number {
    return this.#rare?.viewerCount ?? 0;
  }

  /** What joins this session as a viewer now: a revocation (`view.revoke`) makes another. */
  get viewSecret(): string {
    return viewSecretOf(this.resumeSecret, this.#rare?.viewGeneration ?? 0);
  }

  /** Sockets joined, viewers not counted: they do not hold the session. */
  get connectionCount(): number {
    return this.#connections.size - this.viewerCount;
  }

  /** The detach TTL that runs once no socket is joined (see #detachTtlMs). */
  get detachTtlMs(): number {
    return this.#detachTtlMs;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Every exec the session remembers, oldest first; `commandBytes`: each command cut to that many bytes (hello's). */
  execInfos(commandBytes?: number): ExecInfo[] {
    return this.#execs?.infos(commandBytes) ?? [];
  }

  /** Joins a socket: it receives the output of every exec started from now on. A viewer (sink.viewer) holds nothing. */
  join(connection: SessionConnection, detachTtlMs?: number): void {
    this.#connections.set(connection, null);
    if (connection.sink.viewer === true) {
      const rare = (this.#rare ??= {});
      rare.viewerCount = (rare.viewerCount ?? 0) + 1;
      return;
    }
    this.#clock?.disarm();
    if (detachTtlMs !== undefined) ((this.#rare ??= {}).askedTtls ??= new Map()).set(connection, detachTtlMs);
  }

  /** The socket's file handler, made on its first file request: an idle session should cost little. */
  #filesFor(connection: SessionConnection): FileHandler {
    let files = this.#connections.get(connection);
    if (!files) {
      files = createFileHandler({
        workspace: this.workspace.path,
        owner: this.options.runAs,
        quotaBytes: this.options.workspaceQuotaBytes,
        limits: fileLimitsForFrames(this.options.limits.maxFrameBytes),
        protectPaths: this.options.protectPaths,
        watchBudget: ((this.#rare ??= {}).watchBudget ??= createWatchBudget(MAX_WATCHED_DIRECTORIES_PER_SESSION, "this session", this.counters.watchedDirectories)),
        send: (reply) => connection.sink.send(JSON.stringify(reply)),
        sendError: (code, text, id) => this.#sendError(connection, code, text, id),
        congestion: () => connection.sink.congestion(),
      });
      this.#connections.set(connection, files);
    }
    return files;
  }

  /**
   * A socket left (closed or dropped). The session's commands go on (see the class comment). For
   * `holdOutputMs` the socket's positions keep holding the output of the execs it was still being
   * sent, so that a command whose log fills blocks instead of dropping bytes: a client that
   * reconnects and attaches within the hold loses nothing. After the hold, commands run on and
   * their oldest output is dropped.
   */
  leave(connection: SessionConnection): void {
    if (!this.#connections.has(connection)) return;
    this.#connections.get(connection)?.close();
    this.#connections.delete(connection);
    if (connection.sink.viewer === true) {
      this.#rare!.viewerCount!--;
      // A viewer's positions held nothing (they never pace): its subscriptions go now, the clock is
      // untouched. By its sink, closed or not: a viewer cut by view.revoke leaves before its socket
      // closes, and releaseHeld, which takes closed sinks only, kept its subscriptions (a review).
      this.#execs?.forEachStreaming((record) => record.unsubscribe(connection.sink));
      return;
    }
    this.#detachTtlMs = this.#rare?.askedTtls?.get(connection) ?? this.options.detachTtlMs;
    this.#rare?.askedTtls?.delete(connection);
    // Stdin credit the socket held and had not used: it will never send it now.
    for (const record of this.#execs?.records() ?? []) if (record.running) record.stdinWriterLeft(connection.sink);
    // Only a socket still being sent some exec's output has anything to hold: kept for the hold
    // anyway, every socket that left cost a timer, the socket and its data (~1.3 KB) for 60 s, so a
    // client that reconnects every second kept about 60 of them (found by a soak).
    if (this.#execs?.isStreamingTo(connection.sink)) {
      const held = new Set([connection.sink]);
      this.#clockOf().holdOutput(() => this.#execs?.forEachStreaming((record) => record.releaseHeld(held)));
    }
    this.#clockOf().arm();
  }

  /**
   * Holds the session for one HTTP file transfer: while any is open, no TTL runs, as with a socket
   * joined, so a slow PUT or GET to a session without a socket is not cut off by its expiry. The
   * function returned releases the hold, once; the last release starts the clock again as `leave`
   * does. A session that ends meanwhile ends all the same (the transfer then fails on its own).
   */
  holdForHttp(): () => void {
    return this.#clockOf().holdForHttp();
  }

  /** After a socket drained: send what waits for it. */
  drained(connection: SessionConnection): void {
    if (connection.sink.congestion()) return;
    this.#execs?.forEachStreaming((record) => record.flushFor(connection.sink));
  }

  /** Handles one decoded message from a joined socket. Never throws: every failure becomes an `error` reply. */
  handle(connection: SessionConnection, message: ClientMessage): void {
    if (this.#ended) return;
    if (connection.sink.viewer === true) {
      const refusal = viewerRefusal(message);
      if (refusal) return this.#sendError(connection, "forbidden_by_policy", refusal, "id" in message ? message.id : undefined);
    }
    if (isFileRequest(message)) return this.#filesFor(connection).handle(message);
    switch (message.type) {
      case "exec":
        return this.#exec(connection, message);
      case "stdin":
      case "signal":
      case "resize":
      case "attach":
      case "detach":
      case "ack":
        return handleExecControl(this.#controlsOf(), connection, message);
      case "list":
        return void this.#sendList(connection, message.id);
      case "ping":
        return this.#send(connection, { type: "pong", ...(message.id !== undefined && { id: message.id }) });
      case "view.revoke":
        return this.#revokeViewers(connection, message.id);
      case "close":
        void this.close("closed");
        return;
      default: {
        const unreachable: never = message;
        return unreachable;
      }
    }
  }

  /**
   * A new view secret, and every viewer joined with the old one cut as a wrong secret is refused
   * (`unknown_session`, 4404), so that a client that reconnects it stops. Full sockets learn the new one.
   */
  #revokeViewers(asker: SessionConnection, id: string | undefined): void {
    const rare = (this.#rare ??= {});
    rare.viewGeneration = (rare.viewGeneration ?? 0) + 1;
    const viewers = [...this.#connections.keys()].filter((connection) => connection.sink.viewer === true);
    for (const viewer of viewers) {
      this.leave(viewer);
      this.#sendError(viewer, "unknown_session", "the session's view secret was revoked: this read-only view has ended");
      viewer.close(CLOSE_CODES.unknownSession, "view revoked");
    }
    const revoked = { type: "view.revoked", viewSecret: this.viewSecret, viewersCut: viewers.length } as const;
    for (const connection of this.#connections.keys()) this.#send(connection, connection === asker && id !== undefined ? { ...revoked, id } : revoked);
  }

  /**
   * `execs` carries every remembered command whole (up to 8 MiB of them) for a request of a few
   * bytes: it waits until the socket has room, as output does, so that a client asking for it
   * again and again before reading the replies is paced instead of closed with 4008 at 32 MiB
   * queued (found by a review: 20 lists of 8 MB each, from a client reading as fast as it could).
   */
  async #sendList(connection: SessionConnection, id: string | undefined): Promise<void> {
    for (let room = connection.sink.congestion(); room; room = connection.sink.congestion()) await room;
    this.#send(connection, { type: "execs", ...(id !== undefined && { id }), execs: this.execInfos() });
  }

  #send(connection: SessionConnection, message: ServerMessage): void {
    connection.sink.send(JSON.stringify(message));
  }

  #sendError(connection: SessionConnection, code: ErrorCode, message: string, id?: string): void {
    this.#send(connection, { type: "error", ...(id !== undefined && { id }), code, message });
  }

  /** Replies with an error to one socket; `id` echoes the exec id when there is one. */
  sendError(connection: SessionConnection, code: ErrorCode, message: string, id?: string): void {
    this.#sendError(connection, code, message, id);
  }

  #broadcast(message: ServerMessage): void {
    const text = JSON.stringify(message);
    for (const connection of this.#connections.keys()) connection.sink.send(text);
  }

  #exec(connection: SessionConnection, message: ExecMessage): void {
    const { id } = message;
    const fingerprint = fingerprintOf(message);
    const existing = this.#execs?.get(id);
    if (existing) {
      if (existing.fingerprint.digest === fingerprint.digest) return this.#send(connection, { type: "state", id, exec: existing.info() });
      return this.#sendError(connection, "duplicate_id", `exec id ${JSON.stringify(id)} was already used in this session for a different request`, id);
    }
    // A command for a live shell rides on the shell's slot; anything else needs one of its own.
    const needsSlot = message.shell === undefined || !this.#shells?.isLive(message.shell);
    const refused = execAdmissionProblem(message, this.options, { needsSlot, sessionSlots: this.#execs?.slots ?? 0, serverSlots: this.counters.execSlots });
    if (refused) return this.#sendError(connection, refused.code, refused.message, id);
    this.#sweepGitRedirects();
    if (message.shell !== undefined) return this.#shellsOf().exec(connection, message, message.shell, message.cmd!, fingerprint);
    const launched = launchExec(this.#launchContextOf(), message, fingerprint);
    if (!launched.ok) return this.#sendError(connection, launched.code, launched.problem, id);
    this.#execsOf().track(connection, launched.record, launched.record.running!, launched.cwdPath);
  }

  /** What the exec messages need of this session, made on the first one (an idle session should cost little). */
  #controlsOf(): ExecControlContext {
    this.#controls ??= {
      record: (id) => this.#execs?.get(id),
      sendError: (connection, code, text, id) => this.#sendError(connection, code, text, id),
      streaming: (record) => this.#execsOf().markStreaming(record),
    };
    return this.#controls;
  }

  #execsOf(): SessionExecs {
    this.#execs ??= new SessionExecs(this.id, this.options, this.counters, {
      connections: () => this.#connections.keys(),
      broadcast: (message) => this.#broadcast(message),
      execEnded: () => {
        this.#sweepGitRedirects();
        this.#clockOf().arm();
        this.#afterRunning();
      },
    });
    return this.#execs;
  }

  /** Before each exec and after each one ends, and when a kept workspace's session ends (workspace-upkeep.ts). */
  #sweepGitRedirects(): void {
    sweepGitRedirects(this.options, this.id, this.workspace.path);
  }

  /** What launchExec needs of this session, made on the first exec (an idle session should cost little). */
  #launchContextOf(): LaunchContext {
    this.#launchContext ??= {
      workspacePath: this.workspace.path,
      options: this.options,
      policy: sessionPolicy(this.workspace.path, this.options),
      network: (policy) => this.#networkOf().forCommand(policy),
    };
    return this.#launchContext;
  }

  #networkOf(): SessionNetwork {
    this.#network ??= new SessionNetwork(this.options.sandbox.backend, (problem) =>
      this.options.logger.warn("network.shared_failed", { session: this.id }, `bunker: session ${this.id}: no network namespace for its commands to share (${problem}); each command gets its own`),
    );
    return this.#network;
  }

  /** Nothing of the session runs: its network namespace may go (SessionNetwork.idle). */
  #afterRunning(): void {
    if (this.runningCount === 0) this.#network?.idle();
  }

  #clockOf(): SessionClock {
    this.#clock ??= new SessionClock(this.options, this, () => void this.close("expired"));
    return this.#clock;
  }

  #shellsOf(): SessionShells {
    this.#shells ??= new SessionShells({
      options: this.options,
      workspacePath: this.workspace.path,
      policy: this.#launchContextOf().policy,
      network: (policy) => this.#networkOf().forCommand(policy),
      sendError: (connection, code, text, id) => this.#sendError(connection, code, text, id),
      track: (connection, record, running, cwdPath) => this.#execsOf().track(connection, record, running, cwdPath),
      holdSlot: () => {
        const release = this.#execsOf().holdSlot();
        // A shell that ends while no socket is joined may leave nothing running: the idle TTL applies again.
        return () => {
          release();
          this.#clockOf().arm();
          this.#afterRunning();
        };
      },
    });
    return this.#shells;
  }

  /**
   * Ends the session: every tree is killed at once, retention applies, and every joined socket is
   * closed. Resolves when all processes are gone.
   */
  close(why: "closed" | "expired" | "shutdown"): Promise<void> {
    this.#closing ??= (async () => {
      this.#ended = true;
      this.#clock?.stop();
      this.hooks.onEnd(this);
      // The id (or name) is free from here on: a new session of it may start before this one's
      // processes are gone, and gets the same workspace path. This one's directory moves out of the
      // way first, or its removal below would delete the new session's workspace (found by a race
      // hunt: a named session closed and joined again 0 to 4 ms later lost its workspace 6 times in 10).
      // File requests still under way would resolve their paths in the new one: they end now.
      if (this.options.workspaceRetention === "delete") this.workspace.setAside();
      for (const [, files] of this.#connections.entries()) files?.close();
      const records = [...(this.#execs?.records() ?? [])];
      for (const record of records) {
        // A full ack window would otherwise hold the killed tree's last output, and the close with it.
        record.unsubscribeAll();
        record.running?.terminate("killed", true);
      }
      await Promise.allSettled([...records.map((record) => record.running?.finished), this.#shells?.closeAll()]);
      this.#network?.close();
      // A kept workspace is read by host tools once the session is gone.
      if (this.options.workspaceRetention === "keep") this.#sweepGitRedirects();
      // Before `closed`, so that a client told the session is closed finds its workspace gone; and
      // asynchronous, so that a workspace a command filled (a chain of directories thousands deep)
      // holds up this close alone, never the server's other sessions.
      if (this.options.workspaceRetention === "delete") await removeSessionWorkspace(this.options, this.id, this.workspace);
      // At shutdown every socket is closed with 1001 by the server; a session that expired has only
      // viewers left, if anything (they do not hold it), and they learn it as a close would tell them.
      for (const connection of this.#connections.keys()) {
        if (why === "shutdown") continue;
        this.#send(connection, { type: "closed", session: this.id });
        connection.close(CLOSE_CODES.sessionClosed, why === "closed" ? "session closed" : "session expired");
      }
      this.#connections.clear();
      if (this.#rare) this.#rare.viewerCount = 0;
    })();
    return this.#closing;
  }
}
