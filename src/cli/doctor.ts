import type { BackendCheck } from "../sandbox/diagnose-causes.ts";
import type { HostFacts } from "../sandbox/diagnose-facts.ts";
import { readHostFacts } from "../sandbox/diagnose-read.ts";
import { diagnoseSandbox, type SandboxDiagnosis } from "../sandbox/diagnose.ts";
import { printOutput } from "./broken-pipe.ts";
import { DOCTOR_HELP } from "./help.ts";
import { parseFlags, type FlagSpecs } from "./parse-flags.ts";
import { UsageError } from "./usage-error.ts";

const DOCTOR_FLAGS = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies FlagSpecs;

/** `bunker doctor --json`: the verdict, and the facts it was drawn from (for bug reports). */
export interface DoctorReport extends SandboxDiagnosis {
  /** Whether a real sandbox (bwrap or seatbelt) works here: the exit code is 0 exactly then. */
  sandboxed: boolean;
  facts: HostFacts;
}

/** Parses `bunker doctor` arguments. Throws UsageError on misuse. */
export function parseDoctorArgs(args: string[]): { json: boolean } | "help" {
  const flags = parseFlags(args, DOCTOR_FLAGS);
  if (flags["help"]) return "help";
  return { json: flags["json"] === true };
}

function describeHost(facts: HostFacts): string {
  const parts = [`${facts.platform} ${facts.arch}`];
  if (facts.distro) parts.push(facts.distro.prettyName);
  if (facts.uid !== undefined) parts.push(facts.uid === 0 ? "running as root" : `running as uid ${facts.uid}`);
  if (facts.container) parts.push(`in a container (${facts.container.kind}: ${facts.container.evidence})`);
  return parts.join(", ");
}

/** Where the text after a backend's name and status starts, so that continuation lines line up. */
const DETAIL_INDENT = " ".repeat(21);

function renderFix(fix: readonly string[]): string[] {
  return fix.map((line, index) => `${DETAIL_INDENT}${index === 0 ? "fix: " : "     "}${line}`);
}

function renderCheck(check: BackendCheck): string[] {
  const lines = [`  ${check.backend.padEnd(9)} ${check.status.padEnd(8)} ${check.reason}`];
  if (check.detail) lines.push(`${DETAIL_INDENT}${check.backend === "bwrap" ? "bwrap said" : "probe said"}: ${check.detail}`);
  lines.push(...renderFix(check.fix));
  for (const warning of check.warnings) lines.push(`${DETAIL_INDENT}note: ${warning}`);
  // other-platform has no fix and needs no explaining; every other cause has a section in the doc.
  if (check.cause && check.fix.length > 0) lines.push(`${DETAIL_INDENT}(cause: ${check.cause}; see docs/TROUBLESHOOTING.md)`);
  return lines;
}

/** The human report: one block per backend, the support checks, then what `serve` would do. */
export function renderDoctorText(report: DoctorReport): string {
  const lines = [`bunker doctor: ${describeHost(report.facts)}`, "", "Backends:"];
  for (const check of report.checks) lines.push(...renderCheck(check));
  if (report.support.length > 0) {
    lines.push("", "Hardening support:");
    for (const item of report.support) {
      lines.push(`  ${item.name.padEnd(9)} ${(item.present ? "present" : "missing").padEnd(8)} ${item.reason}`);
      lines.push(...renderFix(item.fix));
    }
  }
  lines.push("");
  if (report.auto.sandboxed) {
    lines.push(`bunker serve --sandbox auto would use: ${report.auto.backend}.`);
  } else {
    lines.push("bunker serve --sandbox auto would fall back to: none (no OS sandbox; --require-sandbox refuses to start). It does not enforce:");
    for (const item of report.auto.notEnforced) lines.push(`  - ${item}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Runs `bunker doctor`: reads the host's facts (running the sandbox once, as serve does), prints
 * the diagnosis as text or JSON, and returns the exit code: 0 when a real sandbox works, 1 when
 * only the fallback is left, 141 when stdout's reader went away. Throws UsageError for misuse (exit 2).
 */
export async function runDoctor(args: string[], env: Record<string, string | undefined>): Promise<number> {
  const options = parseDoctorArgs(args);
  if (options === "help") return printOutput(DOCTOR_HELP);
  const facts = await readHostFacts({ env });
  const diagnosis = diagnoseSandbox(facts);
  const sandboxed = diagnosis.checks.some((check) => check.backend !== "none" && check.status === "works");
  const report: DoctorReport = { sandboxed, ...diagnosis, facts };
  // undefined becomes null, so that every field is present for machines: null means "none" or "not known".
  const json = () => `${JSON.stringify(report, (_key, value: unknown) => (value === undefined ? null : value), 2)}\n`;
  return printOutput(options.json ? json() : renderDoctorText(report), report.sandboxed ? 0 : 1);
}
