import type { ExecRlimits } from "../protocol/index.ts";

/** Resource limits of one exec, all set (the server's, lowered by the request where it asked). */
export type Rlimits = Required<ExecRlimits>;

/**
 * Defaults that a normal build or `pip install` never reaches, while a runaway command does: ten
 * minutes of CPU, 8 GiB of address space, 2 GiB per file, 4096 open files, 1024 processes.
 */
export const DEFAULT_RLIMITS: Rlimits = {
  cpuSeconds: 600,
  addressSpaceBytes: 8 * 1024 ** 3,
  fileSizeBytes: 2 * 1024 ** 3,
  openFiles: 4096,
  processes: 1024,
};

/** Default size of a sandbox's private /tmp (bwrap's tmpfs). */
export const DEFAULT_TMP_SIZE_BYTES = 512 * 1024 * 1024;

/** prlimit(1) names of the limits. Core dumps are always off. */
const PRLIMIT_FLAGS: Record<keyof Rlimits, string> = {
  cpuSeconds: "--cpu",
  addressSpaceBytes: "--as",
  fileSizeBytes: "--fsize",
  openFiles: "--nofile",
  processes: "--nproc",
};

/** The limits an exec runs with, or why its request is refused: a request may only lower them. */
export function resolveExecRlimits(server: Rlimits, requested: ExecRlimits | undefined): { ok: true; rlimits: Rlimits } | { ok: false; problem: string } {
  const rlimits = { ...server };
  for (const [name, value] of Object.entries(requested ?? {}) as [keyof Rlimits, number | undefined][]) {
    if (value === undefined) continue;
    if (value > server[name]) {
      return { ok: false, problem: `rlimits.${name}: ${value} is above the server's limit of ${server[name]}; a request can only lower it` };
    }
    rlimits[name] = value;
  }
  return { ok: true, rlimits };
}

/**
 * `prlimit` arguments that set every limit, soft and hard alike, so that the command cannot raise
 * them again (the workspace-only fallback; bwrap uses the reaper, below). Under bwrap the limits are
 * applied inside, after the user namespace exists: RLIMIT_NPROC is then counted per sandbox rather
 * than per host uid, so one session's fork bomb cannot starve others that run as the same uid
 * (measured: with the limit set on bwrap itself, a second sandbox could not even be created).
 */
export function buildPrlimitArgs(rlimits: Rlimits): string[] {
  return [...(Object.keys(PRLIMIT_FLAGS) as (keyof Rlimits)[]).map((name) => `${PRLIMIT_FLAGS[name]}=${rlimits[name]}:${rlimits[name]}`), "--core=0:0"];
}

/**
 * The reaper's `-l CPU AS FSIZE NOFILE NPROC` arguments (see reaper/reaper-x86_64.S): the reaper,
 * pid 1 inside the sandbox, sets them on itself before it forks the command, with no extra exec.
 */
export function buildReaperLimitArgs(rlimits: Rlimits): string[] {
  return ["-l", ...[rlimits.cpuSeconds, rlimits.addressSpaceBytes, rlimits.fileSizeBytes, rlimits.openFiles, rlimits.processes].map((value) => String(Math.trunc(value)))];
}
