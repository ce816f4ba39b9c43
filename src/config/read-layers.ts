import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import * as v from "valibot";
import { UsageError, quote } from "../cli/usage-error.ts";
import { SERVE_FIELD_NAMES, SERVE_FIELDS, ServeConfigSchema, envOf, flagOf, type ServeConfig, type ServeFieldName } from "./serve-fields.ts";

/** Where a layer of settings came from, lowest precedence first. */
export const LAYER_KINDS = ["default", "file", "env", "flag"] as const;
export type LayerKind = (typeof LAYER_KINDS)[number];

/** One source of settings: the values it gives, and how an error names each of them. */
export interface ConfigLayer {
  kind: LayerKind;
  values: ServeConfig;
  /** `--port`, `BUNKER_PORT`, `bunker.json: port`. */
  labels: Partial<Record<ServeFieldName, string>>;
  /** Things worth saying at startup (a config file that others can read holds the token). */
  warnings: string[];
}

/** A value as an error quotes it; a secret only by its length. */
function shown(name: ServeFieldName, value: unknown): string {
  const secret = "secret" in SERVE_FIELDS[name];
  if (secret) return `a value of ${typeof value === "string" ? value.length : 0} characters`;
  const text = typeof value === "string" ? quote(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** Checks one value against its field's schema; throws a UsageError that names where it came from. */
function checked(name: ServeFieldName, value: unknown, label: string, raw: unknown = value): unknown {
  const result = v.safeParse(SERVE_FIELDS[name].schema, value);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const index = issue.path?.find((item) => typeof item.key === "number")?.key;
  const where = index === undefined ? label : `${label}[${String(index)}]`;
  throw new UsageError(`${where}: ${shown(name, index === undefined ? raw : issue.input)} ${issue.message}`);
}

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off"]);

/** A string from the command line or the environment as its field's type, checked. */
function fromText(name: ServeFieldName, raw: string | string[] | boolean, label: string): unknown {
  const { kind } = SERVE_FIELDS[name];
  if (typeof raw === "boolean" || Array.isArray(raw)) return checked(name, raw, label);
  switch (kind) {
    case "number":
      // Anything but an integer reaches the schema as text, which it refuses with the range; a
      // negative integer as a number, which it refuses as out of range (`"-1" must be between 0 and 65535`).
      return checked(name, /^-?\d+$/.test(raw) ? Number(raw) : raw, label, raw);
    case "boolean": {
      const word = raw.toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      throw new UsageError(`${label}: ${shown(name, raw)} is not true or false (1, 0, true, false, yes, no, on, off)`);
    }
    case "list":
      return checked(name, raw.split(",").map((item) => item.trim()).filter((item) => item.length > 0), label, raw);
    case "text":
      return checked(name, raw, label);
  }
}

/** The settings given as flags (parseFlags values, keyed by flag name without dashes). */
export function readFlagLayer(flags: Record<string, string | boolean | number | (string | boolean)[] | undefined>): ConfigLayer {
  const layer: ConfigLayer = { kind: "flag", values: {}, labels: {}, warnings: [] };
  for (const name of SERVE_FIELD_NAMES) {
    const flag = flagOf(name);
    const raw = flags[flag.slice(2)];
    if (raw === undefined) continue;
    (layer.values as Record<string, unknown>)[name] = fromText(name, raw as string | string[] | boolean, flag);
    layer.labels[name] = flag;
  }
  return layer;
}

/** BUNKER_* variables read elsewhere than as a setting: the config file's path, and the CLI client's server. */
const OTHER_VARIABLES = new Set(["BUNKER_CONFIG", "BUNKER_URL"]);

/**
 * The settings given as BUNKER_* environment variables. An empty variable counts as unset. One that
 * names no setting is a warning (a misspelt key in a config file is an error, but the environment
 * is shared with everything else the service runs, so a stray variable must not stop it).
 */
export function readEnvLayer(env: Record<string, string | undefined>): ConfigLayer {
  const layer: ConfigLayer = { kind: "env", values: {}, labels: {}, warnings: [] };
  const known = new Set(OTHER_VARIABLES);
  for (const name of SERVE_FIELD_NAMES) {
    const variable = envOf(name);
    known.add(variable);
    const raw = env[variable];
    if (raw === undefined || raw === "") continue;
    (layer.values as Record<string, unknown>)[name] = fromText(name, raw, variable);
    layer.labels[name] = variable;
  }
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith("BUNKER_") || known.has(variable)) continue;
    const near = closestField(variable.slice("BUNKER_".length).toLowerCase().replaceAll("_", "-"));
    layer.warnings.push(`${variable} is not a setting of bunker serve${near ? ` (did you mean ${envOf(near)}?)` : ""}; it is ignored`);
  }
  return layer;
}

/**
 * Settings that name files: in a config file, relative paths are taken from the file's directory;
 * as a flag or a variable, from the working directory.
 */
export const PATH_FIELDS = ["workspaceRoot", "tlsCert", "tlsKey"] as const satisfies ServeFieldName[];

/** Edit distance, case-insensitive: how a misspelt key finds the setting it meant. */
function distance(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  let previous = Array.from({ length: y.length + 1 }, (_, index) => index);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[y.length]!;
}

/** The setting a misspelt key most likely meant, when one is close (kebab-case flags included). */
function closestField(key: string): ServeFieldName | undefined {
  const plain = key.replace(/^-+/, "").replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const scored = SERVE_FIELD_NAMES.map((name) => ({ name, score: distance(plain, name) })).sort((a, b) => a.score - b.score);
  return scored[0] && scored[0].score <= 3 ? scored[0].name : undefined;
}

/** Reads and checks a JSON config file. Every error names the file and the field. */
export function readConfigFile(path: string): ConfigLayer {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`--config: ${quote(path)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // The parser quotes the text it choked on, which may be the token itself: name the problem only.
    const reason = (error as Error).message.replace(/"[^"]*"?/g, "(text not shown)");
    throw new UsageError(`${path}: not valid JSON: ${reason}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`${path}: must hold one JSON object of settings`);
  const result = v.safeParse(ServeConfigSchema, parsed);
  if (!result.success) {
    const issue = result.issues[0];
    const key = String(issue.path?.[0]?.key ?? "");
    if (!(SERVE_FIELD_NAMES as string[]).includes(key)) {
      const near = closestField(key);
      throw new UsageError(`${path}: ${quote(key)} is not a setting of bunker serve${near ? ` (did you mean ${quote(near)}?)` : ""}`);
    }
    checked(key as ServeFieldName, (parsed as Record<string, unknown>)[key], `${path}: ${key}`);
    throw new UsageError(`${path}: ${key}: ${issue.message}`);
  }
  const values = { ...(result.output as ServeConfig) };
  for (const name of PATH_FIELDS) if (values[name] !== undefined) values[name] = resolve(dirname(path), values[name]);
  const labels = Object.fromEntries(Object.keys(values).map((name) => [name, `${path}: ${name}`]));
  const warnings: string[] = [];
  // Group or other may read it: the token is then no secret on this machine.
  if (values.token !== undefined && (statSync(path).mode & 0o077) !== 0) {
    warnings.push(`${path} holds the token and others on this machine can read it; chmod 600 ${path}`);
  }
  return { kind: "file", values, labels, warnings };
}
