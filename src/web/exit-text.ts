import type { ExitFactsMessage } from "../protocol/index.ts";

/** How an exec ended, in a few words: "exited with code 0", "killed by SIGKILL (timeout)". */
export function describeExit(exit: ExitFactsMessage): string {
  const how = exit.code !== null ? `exited with code ${exit.code}` : `killed by ${exit.signal ?? "a signal"}`;
  switch (exit.reason) {
    case "exited":
    case "signaled":
      return how;
    case "timeout":
      return `${how} (timed out)`;
    case "killed":
      return `${how} (signal sent)`;
    case "output_limit":
      return `${how} (output limit reached)`;
    default: {
      const unknown: never = exit.reason;
      return `${how} (${String(unknown)})`;
    }
  }
}

/** A line the page writes into the terminal itself, dimmed so it does not pass for shell output. */
export function formatNotice(text: string): string {
  return `\r\n\x1b[2m[bunker] ${text}\x1b[0m\r\n`;
}
