import { defaultServeConfig } from "../config/serve-settings.ts";
import { SERVE_FIELD_NAMES, SERVE_FIELDS, type ServeConfig } from "../config/serve-fields.ts";
import { CONFIG_HELP } from "./help.ts";
import { loadServeConfig } from "./serve-args.ts";

/** What a secret shows as. */
export const REDACTED = "<redacted>";

/**
 * Runs `bunker config`: the settings `bunker serve` would run with, given the same flags,
 * environment and config file, as a config file (JSON) or with `--sources` as a table of where each
 * came from. Secrets are redacted. Throws UsageError for misuse, as serve would.
 */
export function runConfigCommand(args: string[], env: Record<string, string | undefined>, write: (text: string) => void = (text) => void process.stdout.write(text)): void {
  const loaded = loadServeConfig(args, env, { sources: { type: "boolean" } });
  if (loaded === "help") {
    write(CONFIG_HELP);
    return;
  }
  const effective: Record<string, unknown> = { ...defaultServeConfig(process.geteuid?.() ?? -1), ...loaded.merged.values };
  const shown: ServeConfig = {};
  for (const name of SERVE_FIELD_NAMES) {
    const value = effective[name];
    if (value === undefined) continue;
    (shown as Record<string, unknown>)[name] = "secret" in SERVE_FIELDS[name] ? REDACTED : value;
  }
  if (loaded.flags["sources"] !== true) {
    write(`${JSON.stringify(shown, null, 2)}\n`);
    return;
  }
  const rows = SERVE_FIELD_NAMES.map((name) => {
    const value = (shown as Record<string, unknown>)[name];
    const source = loaded.merged.sources[name];
    const unset = name === "token" && !loaded.merged.values.noAuth ? "(generated at startup)" : "(none)";
    return [name, value === undefined ? unset : JSON.stringify(value), source.kind === "default" ? "default" : source.label];
  });
  const widths = [0, 1].map((column) => Math.min(40, Math.max(...rows.map((row) => row[column]!.length))));
  for (const row of rows) write(`${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]}\n`);
}
