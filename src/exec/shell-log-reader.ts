import type { LogReader, OutputLog } from "./output-log.ts";
import type { ExecLogs } from "./run-exec.ts";
import type { ShellCommandOutput } from "./shell-command-output.ts";
import { MarkerScanner } from "./shell-marker.ts";

/** Bytes read from the shell's log at a time. */
const READ_BYTES = 64 * 1024;

/** A reader of one of the shell's logs: its position paces bash through the log. */
function createCursor(log: OutputLog): LogReader & { position: number } {
  const cursor = { position: log.end };
  log.addReader(cursor);
  return cursor;
}

/**
 * The one reader of a persistent shell's own two logs (see createShellDriver): first its stdout up
 * to the ready marker, then, command by command, each command's share of both streams. Nothing is
 * read while no command runs, so that bash (and its background jobs) wait in write once the logs
 * are full.
 */
export interface ShellLogReader {
  /** Whether the shell's stdout has passed its ready marker, or ended before it. */
  readonly ready: boolean;
  /** Reads stdout up to the ready marker (or its end, when bash died first); returns `ready`. */
  readUntilReady(): boolean;
  /**
   * Moves what `output` may take from the shell's logs into it: up to its markers, and only while
   * its own logs have room (`onRoom` is called once they have more). What the shell printed before
   * it was ready goes first, to the first command. Throws what `output` throws when what follows a
   * marker is not the shell's report (a shell that a command has tampered with).
   */
  pumpInto(output: ShellCommandOutput, onRoom: () => void): void;
  /** Stops pacing the shell's logs: the shell is over. */
  close(): void;
}

/** Starts reading `logs` where they are now; `onReady` is called when the ready marker has passed. */
export function createShellLogReader(logs: ExecLogs, readyMarker: string, onReady: () => void): ShellLogReader {
  const cursors = { stdout: createCursor(logs.stdout), stderr: createCursor(logs.stderr) };
  const readyScanner = new MarkerScanner(readyMarker);
  let ready = false;
  /** What the shell printed on stdout before it was ready (nothing, normally): the first command's. */
  const preamble: Uint8Array[] = [];
  let preambleBytes = 0;

  return {
    get ready() {
      return ready;
    },
    readUntilReady() {
      const log = logs.stdout;
      while (!ready) {
        const chunk = log.read(cursors.stdout.position, READ_BYTES);
        if (!chunk) {
          if (!log.ended) return false;
          preamble.push(readyScanner.flush());
          ready = true;
          break;
        }
        const scan = readyScanner.feed(chunk.bytes);
        // Normally empty; never more than a little is kept.
        if (preambleBytes < READ_BYTES) preamble.push(scan.before);
        preambleBytes += scan.before.byteLength;
        cursors.stdout.position = chunk.offset + (scan.consumed ?? chunk.bytes.length);
        log.readerMoved();
        if (scan.consumed === undefined) continue;
        ready = true;
        onReady();
      }
      return ready;
    },
    pumpInto(output, onRoom) {
      for (const bytes of preamble.splice(0)) output.prepend("stdout", bytes);
      for (const stream of ["stdout", "stderr"] as const) {
        const log = logs[stream];
        const cursor = cursors[stream];
        while (output.wants(stream)) {
          const room = output.waitForRoom(stream);
          if (room) {
            void room.then(onRoom);
            break;
          }
          const chunk = log.read(cursor.position, READ_BYTES);
          if (!chunk) {
            if (log.ended) output.end(stream);
            break;
          }
          const used = output.take(stream, chunk.bytes);
          // The only reader never falls behind what the log holds; were it to, the lost bytes are gone.
          cursor.position = chunk.offset + used;
          log.readerMoved();
        }
      }
    },
    close() {
      logs.stdout.deleteReader(cursors.stdout);
      logs.stderr.deleteReader(cursors.stderr);
    },
  };
}
