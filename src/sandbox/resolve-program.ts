import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";

/** Whether a host path is also visible at the same place inside the sandbox. */
export type VisibleInSandbox = (hostPath: string) => boolean;

function isExecutableFile(path: string): boolean {
  try {
    // Most PATH entries miss: no exception for those (each cost tens of microseconds per exec).
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * How long a lookup in a system directory is remembered. Commands cannot change those (they are
 * read-only in the sandbox); the host's package manager can, and a program it installs is found
 * this long after at most. Every exec looks its program up, and `echo` alone costs four stats.
 */
const SYSTEM_LOOKUP_TTL_MS = 1000;
const SYSTEM_LOOKUP_MAX_ENTRIES = 4096;
/**
 * The distinct PATH entries a lookup looks at, and the longest lookup key remembered. The lookup
 * runs on the server's event loop, and a request's PATH may be 128 KiB: `:` repeated blocked every
 * session for 0.6 s per exec, and 4096 remembered keys of that size held ~700 MiB (found by an
 * audit). A real PATH has tens of entries and fits both bounds many times over.
 */
const MAX_PATH_ENTRIES = 1024;
const MAX_REMEMBERED_KEY_LENGTH = 4096;

/** A lookup remembered until `expiresAt` (performance.now() time). */
export interface RememberedLookup<T> {
  value: T;
  expiresAt: number;
}

/**
 * Remembers `value` under `key` for SYSTEM_LOOKUP_TTL_MS. Entries stay in the order they expire (a
 * key set again moves to the end), so those past their second go from the front as new ones come:
 * the whole lookups are keyed by each session's workspace, and every session's, dead after a
 * second, stayed until 4096 had piled up (one object and two strings per session and program, ~1 MB,
 * found by a soak of sessions opened and closed).
 */
function remember<T>(lookups: Map<string, RememberedLookup<T>>, key: string, value: T, now: number): void {
  for (const [oldKey, old] of lookups) {
    if (old.expiresAt > now) break;
    lookups.delete(oldKey);
  }
  // More distinct lookups within a second than any real PATH makes: start again.
  if (lookups.size >= SYSTEM_LOOKUP_MAX_ENTRIES) lookups.clear();
  lookups.delete(key);
  lookups.set(key, { value, expiresAt: now + SYSTEM_LOOKUP_TTL_MS });
}

const systemLookups = new Map<string, RememberedLookup<boolean>>();

function isExecutableSystemFile(path: string): boolean {
  const now = performance.now();
  const known = systemLookups.get(path);
  if (known && known.expiresAt > now) return known.value;
  const executable = isExecutableFile(path);
  remember(systemLookups, path, executable, now);
  return executable;
}

/**
 * Finds a bare program name on the command's PATH, the way execvp would inside the sandbox. The
 * reaper execs exactly the path it is given, so the lookup happens here, against the host paths
 * that the sandbox shows unchanged (system directories, the workspace). A name with a slash is
 * returned as it is; undefined when nothing on PATH matches. (Passing an unfound bare name on would
 * make execve run a file of that name in the cwd, which execvp never does.) Lookups under a path
 * that `isSystem` accepts are remembered for a second; the workspace's never are.
 */
export function resolveProgram(
  name: string,
  pathEnv: string | undefined,
  cwd: string,
  visible: VisibleInSandbox,
  isSystem: VisibleInSandbox = () => false,
  /** How a system candidate is looked at: remembered for a second (createProgramLookups looks afresh). */
  isExecutableSystem: (path: string) => boolean = isExecutableSystemFile,
): string | undefined {
  if (name.includes("/")) return name;
  if (name === "") return undefined;
  // Distinct entries only: a repeated entry can find nothing the first one did not.
  const entries = [...new Set((pathEnv ?? "").split(":"))].slice(0, MAX_PATH_ENTRIES);
  for (const entry of entries) {
    // Normalised first: `<workspace>/../../x` or `/usr/bin/../../x` must not pass for a visible path
    // (the lookup would then tell the client what exists on the host, where the sandbox sees nothing).
    const candidate = resolve(cwd, entry, name);
    if (!visible(candidate)) continue;
    if (isSystem(candidate)) {
      if (isExecutableSystem(candidate)) return candidate;
    } else if (isExecutableFile(candidate) && leadsToVisible(candidate, visible)) {
      return candidate;
    }
  }
  return undefined;
}

/** resolveProgram, remembering whole lookups (see createProgramLookups). */
export type ResolveProgram = typeof resolveProgram;

/**
 * resolveProgram for one backend, whose `visible` and `isSystem` depend only on the server's
 * settings and on the session's workspace (which `cwd` is in). A whole lookup that met system
 * paths only is remembered for a second, as single candidates are (the default PATH: a bare `echo`
 * went through four of them, ~45 µs of each exec's round trip on a server that sleeps between
 * commands); its candidates are looked at afresh, so that a program the host installs is found a
 * second later at most, not a remembered candidate's second plus the lookup's. Keyed by cwd too, so
 * that no other session, whose workspace the same PATH may reach, shares it.
 */
export function createProgramLookups(
  /** The clock and the table of remembered lookups: a test's own, to look at what is kept. */
  { now: clock = () => performance.now(), lookups = new Map<string, RememberedLookup<string | undefined>>() } = {},
): ResolveProgram {
  return (name, pathEnv, cwd, visible, isSystem = () => false) => {
    const key = `${cwd}\0${pathEnv ?? ""}\0${name}`;
    const now = clock();
    const known = lookups.get(key);
    if (known && known.expiresAt > now) return known.value;
    let allSystem = true;
    const found = resolveProgram(
      name,
      pathEnv,
      cwd,
      visible,
      (candidate) => {
        const system = isSystem(candidate);
        allSystem &&= system;
        return system;
      },
      isExecutableFile,
    );
    if (allSystem && key.length <= MAX_REMEMBERED_KEY_LENGTH) remember(lookups, key, found, now);
    return found;
  };
}

/** Whether a path that commands can change (a symlink in the workspace) still ends where the sandbox sees it. */
function leadsToVisible(path: string, visible: VisibleInSandbox): boolean {
  try {
    return visible(realpathSync(path));
  } catch {
    return false;
  }
}

/** Visibility for bwrap: under one of the mounted system paths or the workspace. */
export function createVisibility(roots: readonly string[]): VisibleInSandbox {
  return (hostPath) => roots.some((root) => hostPath === root || hostPath.startsWith(`${root}/`));
}
