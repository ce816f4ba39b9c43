import { resolve } from "node:path";
import { PATH_FIELDS } from "../config/read-layers.ts";
import { defaultServeConfig } from "../config/serve-settings.ts";
import { envOf, flagOf, SERVE_FIELD_NAMES, SERVE_FIELDS, type ServeFieldName } from "../config/serve-fields.ts";
import { printOutput } from "./broken-pipe.ts";
import { CONFIG_HELP } from "./help.ts";
import { loadServeConfig, type LoadedServeConfig } from "./serve-args.ts";

import { REDACTED } from "../config/field-schemas.ts";

export { REDACTED };

/** What `bunker config` prints: the text for stdout, and notes for stderr. */
export interface ConfigOutput {
  stdout: string;
  stderr: string;
}

function isSecret(name: ServeFieldName): boolean {
  return "secret" in SERVE_FIELDS[name];
}

/**
 * The effective settings as a config file that `serve --config` reads back to the same settings,
 * except for secrets: those show as "<redacted>" (the value itself is never printed), each with a
 * note on stderr saying how to give it again; serve refuses the placeholder as a token unless a
 * layer above the file gives the real one. `noAuth`
 * is the outcome of the layers: false when a token from a higher layer overrides it, since the
 * file without that token must not mean "accept every client". Paths are absolute, since the
 * file's reader takes relative ones from the file's directory.
 */
function renderConfigFile(loaded: LoadedServeConfig): ConfigOutput {
  const effective: Record<string, unknown> = { ...defaultServeConfig(process.geteuid?.() ?? -1), ...loaded.merged.values, noAuth: loaded.settings.token === undefined };
  for (const name of PATH_FIELDS) if (typeof effective[name] === "string") effective[name] = resolve(effective[name]);
  const shown: Record<string, unknown> = {};
  let stderr = "";
  for (const name of SERVE_FIELD_NAMES) {
    const value = effective[name];
    if (value === undefined) continue;
    if (!isSecret(name)) {
      shown[name] = value;
    } else if (name !== "token" || typeof loaded.settings.token === "string") {
      shown[name] = REDACTED;
      stderr += `bunker: ${name} (from ${loaded.merged.sources[name].label}) is printed as ${REDACTED}, as bunker config prints no secret; give the real one to serve: ${flagOf(name)}, ${envOf(name)} or "${name}" in the file\n`;
    }
  }
  return { stdout: `${JSON.stringify(shown, null, 2)}\n`, stderr };
}

/** `--sources`: each setting, its value (secrets redacted) and the layer it came from. */
function renderSources(loaded: LoadedServeConfig): ConfigOutput {
  const effective: Record<string, unknown> = { ...defaultServeConfig(process.geteuid?.() ?? -1), ...loaded.merged.values };
  const rows = SERVE_FIELD_NAMES.map((name) => {
    const value = effective[name];
    const source = loaded.merged.sources[name];
    const unset = name === "token" && !loaded.merged.values.noAuth ? "(generated at startup)" : "(none)";
    const shown = value === undefined ? unset : isSecret(name) ? REDACTED : JSON.stringify(value);
    return [name, shown, source.kind === "default" ? "default" : source.label];
  });
  const widths = [0, 1].map((column) => Math.min(40, Math.max(...rows.map((row) => row[column]!.length))));
  return { stdout: rows.map((row) => `${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]}\n`).join(""), stderr: "" };
}

/**
 * What `bunker config` prints: the settings `bunker serve` would run with, given the same flags,
 * environment and config file, as a config file (JSON), or with `--sources` as a table of where each
 * came from. Throws UsageError for misuse, as serve would.
 */
export function renderConfigCommand(args: string[], env: Record<string, string | undefined>): ConfigOutput {
  const loaded = loadServeConfig(args, env, { sources: { type: "boolean" } });
  if (loaded === "help") return { stdout: CONFIG_HELP, stderr: "" };
  const output = loaded.flags["sources"] === true ? renderSources(loaded) : renderConfigFile(loaded);
  // What serve would warn of at startup (a misspelt BUNKER_ variable above all): this is where people look.
  const warnings = loaded.settings.warnings.map((warning) => `bunker: ${warning}\n`).join("");
  return { stdout: output.stdout, stderr: warnings + output.stderr };
}

/** Runs `bunker config`; resolves with the exit status (141 when stdout's reader went away, as `| head` does). */
export function runConfigCommand(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const output = renderConfigCommand(args, env);
  if (output.stderr) process.stderr.write(output.stderr);
  return printOutput(output.stdout);
}
