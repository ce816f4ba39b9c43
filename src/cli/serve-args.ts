import { flagOf, SERVE_FIELD_NAMES, SERVE_FIELDS } from "../config/serve-fields.ts";
import { readConfigFile, readEnvLayer, readFlagLayer, type ConfigLayer } from "../config/read-layers.ts";
import { mergeLayers, resolveServeSettings, type MergedConfig, type ServeSettings } from "../config/serve-settings.ts";
import { parseFlags, type FlagSpecs } from "./parse-flags.ts";
import { checkDeniedPathsOutsideWritable, withSecretFiles } from "../config/denied-paths.ts";

export type { ServeSettings } from "../config/serve-settings.ts";
export { ROOT_WORKSPACE_ROOT } from "../config/serve-settings.ts";

/** Every flag of `bunker serve`: one per setting, plus --config and --help. */
export const SERVE_FLAGS: FlagSpecs = {
  ...Object.fromEntries(
    SERVE_FIELD_NAMES.map((name) => {
      const { kind } = SERVE_FIELDS[name];
      return [flagOf(name).slice(2), kind === "boolean" ? { type: "boolean" } : { type: "string", ...(kind === "list" && { multiple: true }) }];
    }),
  ),
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
};

/** The settings of `bunker serve` in layers, and the flags that are not settings (--help, --sources...). */
export interface LoadedServeConfig {
  merged: MergedConfig;
  settings: ServeSettings;
  /** The config file read, if any (`--config` or BUNKER_CONFIG). */
  configPath: string | undefined;
  flags: Record<string, unknown>;
}

/**
 * Reads the settings of `bunker serve`: flags over BUNKER_* environment variables over the config
 * file over defaults. Throws UsageError on misuse; "help" when only help was asked for.
 */
export function loadServeConfig(args: string[], env: Record<string, string | undefined>, extraFlags: FlagSpecs = {}): LoadedServeConfig | "help" {
  const flags = parseFlags(args, { ...SERVE_FLAGS, ...extraFlags });
  if (flags["help"]) return "help";
  const configFlag = flags["config"];
  const configPath = typeof configFlag === "string" ? configFlag : env["BUNKER_CONFIG"] || undefined;
  const layers: ConfigLayer[] = [readFlagLayer(flags), readEnvLayer(env)];
  if (configPath !== undefined) layers.push(readConfigFile(configPath));
  const merged = mergeLayers(layers);
  const settings = resolveServeSettings(merged, process.geteuid?.() ?? -1);
  // The file may hold the token: commands must not read it where a bound directory holds it.
  settings.denyRead = withSecretFiles(settings.denyRead, configPath);
  checkDeniedPathsOutsideWritable(settings.denyRead, settings.allowWrite);
  settings.warnings.unshift(...layers.flatMap((layer) => layer.warnings));
  return { merged, settings, configPath, flags };
}

/** Parses `bunker serve` arguments (flags over environment over config file over defaults). Throws UsageError on misuse. */
export function parseServeArgs(args: string[], env: Record<string, string | undefined>): ServeSettings | "help" {
  const loaded = loadServeConfig(args, env);
  return loaded === "help" ? "help" : loaded.settings;
}
