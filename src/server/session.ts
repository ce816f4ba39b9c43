import { mkdirSync } from "node:fs";
import type { ClientMessage, ErrorCode, ExecMessage, ServerMessage, SignalMessage, StdinMessage } from "../protocol/index.ts";
import { isFileRequest } from "../protocol/file-messages.ts";
import { runExec, type RunningExec } from "../exec/run-exec.ts";
import { buildExecEnv } from "../exec/exec-env.ts";
import { resolveCwd } from "../workspace/confine.ts";
import type { Workspace } from "../workspace/create.ts";
import type { SandboxPolicy } from "../sandbox/types.ts";
import type { ConnectionSink } from "./connection-sink.ts";
import { createFileHandler, type FileHandler } from "./file-handler.ts";
import type { ServerOptions } from "./options.ts";
import { effectiveMaxOutputBytes, effectiveTimeoutMs } from "./exec-limits.ts";

/** Counts shared by every session of a server, for server-wide limits. */
export interface ServerCounters {
  runningExecs: number;
}

/** One session: a workspace, the execs run in it, and the connection they report to. */
export class Session {
  readonly #execs = new Map<string, RunningExec>();
  readonly #usedIds = new Set<string>();
  readonly #policy: SandboxPolicy;
  #closed = false;
  /** Serves file requests; its replies go to this session's connection. */
  readonly files: FileHandler;
  #closing: Promise<void> | undefined;

  constructor(
    readonly id: string,
    readonly workspace: Workspace,
    private readonly options: ServerOptions,
    private readonly counters: ServerCounters,
    private readonly sink: ConnectionSink,
  ) {
    this.#policy = { workspace: workspace.path, allowNetwork: options.allowNetwork };
    const tempDir = options.sandbox.backend.tempDir(this.#policy);
    if (tempDir.startsWith(`${workspace.path}/`)) mkdirSync(tempDir, { recursive: true, mode: 0o700 });
    this.files = createFileHandler({
      workspace: workspace.path,
      owner: undefined,
      quotaBytes: undefined,
      send: (reply) => this.#send(reply),
      sendError: (code, text, id) => this.sendError(code, text, id),
      congestion: () => sink.congestion(),
    });
  }

  /** Execs still running. */
  get runningCount(): number {
    return this.#execs.size;
  }

  #send(message: ServerMessage): void {
    this.sink.send(JSON.stringify(message));
  }

  /** Replies with an error; `id` echoes the exec id when there is one. */
  sendError(code: ErrorCode, message: string, id?: string): void {
    this.#send({ type: "error", ...(id !== undefined && { id }), code, message });
  }

  /** Handles one decoded message. Never throws: every failure becomes an `error` reply. */
  handle(message: ClientMessage): void {
    if (isFileRequest(message)) return this.files.handle(message);
    switch (message.type) {
      case "exec":
        return this.#exec(message);
      case "stdin":
        return this.#stdin(message);
      case "signal":
        return this.#signal(message);
      case "resize":
      case "attach":
      case "detach":
      case "ack":
      case "list":
      case "close":
        return this.sendError("bad_message", `${message.type} is not implemented yet`);
      default: {
        const unreachable: never = message;
        return unreachable;
      }
    }
  }

  #exec(message: ExecMessage): void {
    const { id } = message;
    if (this.#closed) return;
    if (this.#usedIds.has(id)) return this.sendError("duplicate_id", `exec id ${JSON.stringify(id)} was already used in this session`, id);
    const limits = this.options.limits;
    if (this.#execs.size >= limits.maxExecsPerSession) {
      return this.sendError("limit_exceeded", `this session already runs ${limits.maxExecsPerSession} execs, the most it may`, id);
    }
    if (this.counters.runningExecs >= limits.maxExecs) {
      return this.sendError("limit_exceeded", `the server already runs ${limits.maxExecs} execs, the most it may`, id);
    }
    const cwd = resolveCwd(this.workspace.path, message.cwd);
    if (!cwd.ok) return this.sendError(cwd.code, cwd.problem, id);

    const backend = this.options.sandbox.backend;
    const argv = message.cmd !== undefined ? ["/bin/sh", "-c", message.cmd] : message.argv!;
    let running: RunningExec;
    try {
      running = runExec(
        {
          id,
          argv,
          cwd: cwd.path,
          env: buildExecEnv({ home: this.workspace.path, tempDir: backend.tempDir(this.#policy), requested: message.env }),
          stdin: message.stdin === true,
          timeoutMs: effectiveTimeoutMs(message.timeoutMs, limits),
          maxOutputBytes: effectiveMaxOutputBytes(message.maxOutputBytes, limits),
          encoding: message.encoding ?? "utf8",
        },
        backend,
        this.#policy,
        this.sink,
      );
    } catch (error) {
      return this.sendError("spawn_failed", `could not start ${JSON.stringify(argv[0])}: ${(error as Error).message}`, id);
    }
    this.#usedIds.add(id);
    this.#execs.set(id, running);
    this.counters.runningExecs++;
    this.#send({ type: "started", id, pid: running.pid });
    running.finished
      .finally(() => {
        this.#execs.delete(id);
        this.counters.runningExecs--;
      })
      .then(
        (facts) => {
          if (facts.spawnError) this.sendError("spawn_failed", facts.spawnError, id);
          this.#send({ type: "exit", id, code: facts.code, signal: facts.signal, reason: facts.reason, durationMs: facts.durationMs });
        },
        (error: unknown) => {
          this.sendError("internal", `exec ${JSON.stringify(id)} failed inside the server: ${(error as Error).message}`, id);
        },
      );
  }

  #stdin(message: StdinMessage): void {
    const running = this.#execs.get(message.id);
    if (!running) return this.#unknownOrFinished(message.id, "stdin");
    if (!running.stdinOpen) {
      return this.sendError("invalid_state", `exec ${JSON.stringify(message.id)} takes no stdin: it was started without stdin: true, or its stdin has ended`, message.id);
    }
    if (message.data !== undefined && message.data.length > 0) {
      const bytes = message.encoding === "base64" ? Buffer.from(message.data, "base64") : Buffer.from(message.data, "utf8");
      if (!running.writeStdin(bytes)) {
        return this.sendError("limit_exceeded", `exec ${JSON.stringify(message.id)} is not reading its stdin fast enough: too many bytes already wait`, message.id);
      }
    }
    if (message.eof) running.endStdin();
  }

  #signal(message: SignalMessage): void {
    const running = this.#execs.get(message.id);
    if (!running) return this.#unknownOrFinished(message.id, "signal");
    running.signal(message.signal);
  }

  #unknownOrFinished(id: string, what: string): void {
    if (this.#usedIds.has(id)) return this.sendError("invalid_state", `exec ${JSON.stringify(id)} has exited; it takes no ${what}`, id);
    this.sendError("unknown_exec", `no exec with id ${JSON.stringify(id)} in this session`, id);
  }

  /** Ends the session: every tree is killed at once; resolves when all are gone. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.files.close();
      const running = [...this.#execs.values()];
      for (const exec of running) exec.terminate("killed", true);
      await Promise.allSettled(running.map((exec) => exec.finished));
      if (this.options.workspaceRetention === "delete") this.workspace.remove();
    })();
    return this.#closing;
  }
}
