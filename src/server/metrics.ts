import { CLOSE_CODES, ERROR_CODES, EXIT_REASONS, type ErrorCode, type ExitReason } from "../protocol/index.ts";
import { VERSION } from "../version.ts";

/** Why a WebSocket connection was refused: before the upgrade (an HTTP status) or right after it (a close code). */
export const REJECT_REASONS = [
  "not_websocket",
  "shutting_down",
  "origin",
  "unauthorized",
  "subprotocol",
  "too_many_connections",
  "too_many_connections_per_address",
  "upgrade_failed",
  "unknown_session",
  "max_sessions",
  "max_viewers",
  "bad_session_name",
  "bad_detach_ttl",
  "workspace",
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Upper bounds of the exec start-latency histogram, in seconds. */
const START_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Close codes get a label of their own; any other (a client may close with 3000 to 4999) is "other". */
const KNOWN_CLOSE_CODES = new Set<number>([1000, 1001, 1002, 1005, 1006, 1007, 1008, 1009, 1011, 1013, ...Object.values(CLOSE_CODES)]);

/** What the server knows at scrape time. */
export interface MetricsSnapshot {
  sessions: { live: number; detached: number };
  connectionsOpen: number;
  execsRunning: number;
  /** Bytes the running execs have produced so far, by stream (added to the ended execs'). */
  runningOutputBytes: Record<OutputStream, number>;
  sandbox: { backend: string; network: boolean };
}

/** When the process started, for process_start_time_seconds. */
const PROCESS_START_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

/** The server's counters, and their Prometheus text rendering (exposition format 0.0.4). */
export interface ServerMetrics {
  connectionRejected(reason: RejectReason): void;
  /** A socket became a session's (hello sent); one refused right after the upgrade is connectionRejected only. */
  connectionOpened(): void;
  /** Every WebSocket close, refused sockets included. */
  connectionClosed(code: number): void;
  messageReceived(): void;
  errorSent(code: string): void;
  execStarted(latencyMs: number): void;
  execFinished(reason: ExitReason, bytes: { stdout: number; stderr: number }): void;
  render(snapshot: MetricsSnapshot): string;
}

/** A label value with `\`, `"` and newlines escaped. */
function labelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** One metric family; each sample is the text after the name (a suffix such as `_bucket`, labels) and its value. */
function family(name: string, type: "counter" | "gauge" | "histogram", help: string, samples: [suffix: string, value: number][]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [suffix, value] of samples) lines.push(`${name}${suffix} ${value}`);
  return lines.join("\n");
}

/** Counts per label value, every known value present from the start so that dashboards see zeros. */
function labelledCounts<T extends string>(values: readonly T[]): Map<string, number> {
  return new Map(values.map((value) => [value, 0]));
}

function bump(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

function samplesOf(label: string, counts: Map<string, number>): [string, number][] {
  return [...counts].map(([key, value]) => [`{${label}="${labelValue(key)}"}`, value]);
}

const OUTPUT_STREAMS = ["stdout", "stderr"] as const;
type OutputStream = (typeof OUTPUT_STREAMS)[number];

/** What the running execs' output logs hold so far, by stream: each log's end offset. */
export function outputSoFar(running: Iterable<Readonly<Record<OutputStream, { readonly end: number }>>>): Record<OutputStream, number> {
  const bytes = { stdout: 0, stderr: 0 };
  for (const logs of running) {
    bytes.stdout += logs.stdout.end;
    bytes.stderr += logs.stderr.end;
  }
  return bytes;
}

export function createServerMetrics(): ServerMetrics {
  const rejected = labelledCounts(REJECT_REASONS);
  const closed = labelledCounts([...[...KNOWN_CLOSE_CODES].map(String), "other"]);
  const errors = labelledCounts(Object.keys(ERROR_CODES) as ErrorCode[]);
  const finished = labelledCounts(EXIT_REASONS);
  const outputBytes = labelledCounts(OUTPUT_STREAMS);
  const startBuckets = START_BUCKETS_SECONDS.map(() => 0);
  let startCount = 0;
  let startSumSeconds = 0;
  let opened = 0;
  let messages = 0;

  return {
    connectionRejected: (reason) => bump(rejected, reason),
    connectionOpened: () => void opened++,
    connectionClosed: (code) => bump(closed, KNOWN_CLOSE_CODES.has(code) ? String(code) : "other"),
    messageReceived: () => void messages++,
    errorSent: (code) => bump(errors, code in ERROR_CODES ? code : "other"),
    execStarted(latencyMs) {
      const seconds = latencyMs / 1000;
      startCount++;
      startSumSeconds += seconds;
      START_BUCKETS_SECONDS.forEach((bound, index) => {
        if (seconds <= bound) startBuckets[index]!++;
      });
    },
    execFinished(reason, bytes) {
      bump(finished, reason);
      bump(outputBytes, "stdout", bytes.stdout);
      bump(outputBytes, "stderr", bytes.stderr);
    },
    render(snapshot) {
      const families = [
        family("bunker_build_info", "gauge", "The bunker release serving.", [[`{version="${labelValue(VERSION)}"}`, 1]]),
        family("bunker_sandbox_info", "gauge", "The sandbox backend commands run in, and whether they have network.", [
          [`{backend="${labelValue(snapshot.sandbox.backend)}",network="${snapshot.sandbox.network}"}`, 1],
        ]),
        family("bunker_sessions", "gauge", "Sessions held: live with a socket joined (viewers do not count), detached with none.", [
          ['{state="live"}', snapshot.sessions.live],
          ['{state="detached"}', snapshot.sessions.detached],
        ]),
        family("bunker_connections", "gauge", "Open WebSocket connections.", [["", snapshot.connectionsOpen]]),
        family("bunker_connections_opened_total", "counter", "WebSocket connections that joined a session (hello sent); refusals are in bunker_connections_rejected_total.", [["", opened]]),
        family("bunker_connections_rejected_total", "counter", "WebSocket connections refused, by reason.", samplesOf("reason", rejected)),
        family("bunker_connections_closed_total", "counter", "WebSocket connections closed, by close code as the server saw it; sockets refused right after the upgrade included.", samplesOf("code", closed)),
        family("bunker_messages_received_total", "counter", "Frames received from clients.", [["", messages]]),
        family("bunker_errors_sent_total", "counter", "error messages sent to clients, by code.", samplesOf("code", errors)),
        family("bunker_execs_running", "gauge", "Execs whose process tree is alive.", [["", snapshot.execsRunning]]),
        family("bunker_execs_finished_total", "counter", "Execs ended, by exit reason.", samplesOf("reason", finished)),
        family(
          "bunker_exec_output_bytes_total",
          "counter",
          "Raw output bytes of execs, by stream: of ended ones, and of running ones so far.",
          OUTPUT_STREAMS.map((stream) => [`{stream="${stream}"}`, (outputBytes.get(stream) ?? 0) + snapshot.runningOutputBytes[stream]]),
        ),
        family("bunker_exec_start_seconds", "histogram", "Time from an exec request's arrival to its started message.", [
          ...START_BUCKETS_SECONDS.map((bound, index): [string, number] => [`_bucket{le="${bound}"}`, startBuckets[index]!]),
          ['_bucket{le="+Inf"}', startCount],
          ["_sum", startSumSeconds],
          ["_count", startCount],
        ]),
        family("process_resident_memory_bytes", "gauge", "Resident memory of the server process.", [["", process.memoryUsage.rss()]]),
        family("process_start_time_seconds", "gauge", "When the server process started, in seconds since the Unix epoch.", [["", PROCESS_START_SECONDS]]),
      ];
      return `${families.join("\n")}\n`;
    },
  };
}
