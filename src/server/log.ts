import { writeStderr } from "./log-stderr.ts";

/** How important a log line is; lines below the logger's level are not written. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `json`: one JSON object a line, for collectors. `pretty`: the sentence, or `event key=value ...`, for people. */
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** What a line may carry. Callers never put a token, a secret, an env value or command output here. */
export type LogFields = Record<string, string | number | boolean | null | undefined | readonly string[]>;

/** Structured lines on stderr, one event a line. */
export interface Logger {
  debug(event: string, fields?: LogFields, message?: string): void;
  info(event: string, fields?: LogFields, message?: string): void;
  warn(event: string, fields?: LogFields, message?: string): void;
  error(event: string, fields?: LogFields, message?: string): void;
  enabled(level: LogLevel): boolean;
  /** Writes out the lines still held (see createLogger); call before the process exits. */
  flush(): void;
}

export interface LoggerOptions {
  format: LogFormat;
  level: LogLevel;
  /** Where finished lines go (each ends with a newline). Default: stderr. */
  write?: (line: string) => void;
  now?: () => Date;
}

/** A value as `key=value` shows it: bare when it cannot be misread, JSON otherwise. */
function prettyValue(value: LogFields[string]): string {
  if (typeof value === "string") return /^[\w./:@+-]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** Formats one line without its newline. */
export function formatLogLine(format: LogFormat, time: () => Date, level: LogLevel, event: string, fields: LogFields, message: string | undefined): string {
  if (format === "json") {
    const record: Record<string, unknown> = { time: time().toISOString(), level, event, ...(message !== undefined && { msg: message }) };
    // A field cannot replace a fixed key: one named "level" would otherwise mislead a reader.
    for (const [key, value] of Object.entries(fields)) if (value !== undefined && !(key in record)) record[key] = value;
    return JSON.stringify(record);
  }
  if (message !== undefined) return message;
  // Two of these lines per exec: a plain loop, not entries/filter/map/join.
  let line = event;
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined) line += ` ${key}=${prettyValue(value)}`;
  }
  return line;
}

/** Creates a logger that writes lines at `level` and above. */
export function createLogger(options: LoggerOptions): Logger {
  const now = options.now ?? (() => new Date());
  const threshold = LOG_LEVELS.indexOf(options.level);
  const enabled = (level: LogLevel) => LOG_LEVELS.indexOf(level) >= threshold;
  // Lines to stderr are held until the current event is handled and written together: a write(2)
  // per audit line measured 0.3 ms on the exec's own path here. warn and error go out at once.
  let held: string[] = [];
  const flush = () => {
    if (held.length === 0) return;
    const text = held.join("");
    held = [];
    writeStderr(text);
  };
  const write =
    options.write ??
    ((line: string, urgent: boolean) => {
      held.push(line);
      if (urgent) flush();
      else if (held.length === 1) setImmediate(flush);
    });
  const at = (level: LogLevel) => (event: string, fields: LogFields = {}, message?: string) => {
    // The clock is read only by the json format: pretty lines carry no time.
    if (enabled(level)) write(`${formatLogLine(options.format, now, level, event, fields, message)}\n`, level === "warn" || level === "error");
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), enabled, flush };
}
