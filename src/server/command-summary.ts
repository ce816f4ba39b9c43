import type { ExecMessage } from "../protocol/index.ts";

/** An exec's command as a listing shows it: `argv` or `cmd`, and whether it was cut. */
export interface CommandSummary {
  argv?: string[];
  cmd?: string;
  commandTruncated?: true;
}

const encoder = new TextEncoder();

/** The longest start of `text` within `maxBytes` of UTF-8 (never half a character), and its size. */
function utf8Prefix(text: string, maxBytes: number): { text: string; bytes: number } {
  const { read, written } = encoder.encodeInto(text, new Uint8Array(Math.max(0, maxBytes)));
  return { text: read === text.length ? text : text.slice(0, read), bytes: written };
}

/**
 * The request's command, whole, or cut to `maxBytes` of UTF-8 in all (argv: its items in order, the
 * one that crosses the bound cut, the rest left out), with `commandTruncated` when anything was.
 */
export function summarizeCommand(request: Pick<ExecMessage, "argv" | "cmd">, maxBytes?: number): CommandSummary {
  if (maxBytes === undefined) return { ...(request.argv !== undefined && { argv: request.argv }), ...(request.cmd !== undefined && { cmd: request.cmd }) };
  if (request.cmd !== undefined) {
    // A UTF-16 unit is at most 3 bytes of UTF-8: most commands need no encoding to know they fit.
    if (request.cmd.length * 3 <= maxBytes) return { cmd: request.cmd };
    const kept = utf8Prefix(request.cmd, maxBytes).text;
    return kept === request.cmd ? { cmd: kept } : { cmd: kept, commandTruncated: true };
  }
  if (request.argv === undefined) return {};
  const argv: string[] = [];
  let room = maxBytes;
  for (const arg of request.argv) {
    if (arg.length * 3 <= room) {
      argv.push(arg);
      room -= Buffer.byteLength(arg);
      continue;
    }
    const kept = utf8Prefix(arg, room);
    if (kept.text === arg) {
      argv.push(arg);
      room -= kept.bytes;
      continue;
    }
    if (kept.text.length > 0 || argv.length === 0) argv.push(kept.text);
    return { argv, commandTruncated: true };
  }
  return { argv };
}
