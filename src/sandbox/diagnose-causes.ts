/**
 * Every reason `bunker doctor` can give for a backend that does not work, with one sentence each.
 * docs/TROUBLESHOOTING.md has a section for each; a test keeps the two in step.
 */
export const DIAGNOSIS_CAUSES = {
  "other-platform": "The backend belongs to another operating system (bwrap to Linux, seatbelt to macOS).",
  "not-installed": "The backend's program is not on PATH (bwrap) or not at /usr/bin/sandbox-exec (seatbelt).",
  "unsupported-arch": "bwrap is installed, but bunker has no reaper for this CPU architecture (only x86_64 and aarch64).",
  "cannot-run": "The program exists but could not be started (permissions, a broken binary).",
  "probe-timeout": "The probe did not finish within its time limit.",
  "userns-disabled": "The kernel forbids user namespaces to users other than root (kernel.unprivileged_userns_clone=0).",
  "userns-limit": "No user namespace may be created: user.max_user_namespaces is 0, or the nesting depth is used up.",
  "kernel-no-userns": "The kernel was built without user namespaces.",
  "apparmor-userns": "AppArmor lets only programs with a profile that allows it create user namespaces (Ubuntu 24.04 and later).",
  "container-seccomp": "The container's seccomp profile forbids creating namespaces.",
  "container-apparmor": "The container's AppArmor profile (or a missing capability) forbids the mounts bwrap makes.",
  "container-proc": "The container hides parts of /proc, so the kernel refuses a new /proc inside the sandbox.",
  "nested-sandbox": "bunker runs inside another sandbox (bwrap, Flatpak, an app sandbox) that forbids building one more.",
  "seccomp-filter": "A seccomp filter on bunker's own process (a systemd unit's RestrictNamespaces=, say) forbids namespaces.",
  "profile-rejected": "sandbox-exec works but rejected bunker's profile: this macOS does not know one of its rules.",
  unknown: "The probe failed in a way the doctor does not recognise; its output is shown as it was.",
} as const;

/** A stable name for why a backend does not work, as `bunker doctor --json` reports it. */
export type DiagnosisCause = keyof typeof DIAGNOSIS_CAUSES;

/** The backends the doctor checks: the two real sandboxes and the workspace-only fallback. */
export type DiagnosedBackend = "bwrap" | "seatbelt" | "none";

/** What one check found. */
export type CheckStatus =
  /** It ran a command with the server's flags. */
  | "works"
  /** It is not there (or not for this platform). */
  | "missing"
  /** It is there but cannot sandbox here. */
  | "broken";

/** The verdict on one backend. Every field is always there; undefined (null in JSON) means "none". */
export interface BackendCheck {
  backend: DiagnosedBackend;
  status: CheckStatus;
  /** One line: what was found, or why it does not work. */
  reason: string;
  /** Why it does not work; undefined when it works. */
  cause: DiagnosisCause | undefined;
  /** The first line the probe printed, as it printed it, when it failed. */
  detail: string | undefined;
  /** What to do, one command or sentence a line, in the order to try; empty when there is nothing to do. */
  fix: string[];
  /** Things that work now but would not in a foreseeable setup (another uid, say). */
  warnings: string[];
}

/** Builds a BackendCheck with every field in one order, so that JSON output reads the same for each. */
export function backendCheck(
  backend: DiagnosedBackend,
  status: CheckStatus,
  fields: { reason: string; cause?: DiagnosisCause | undefined; detail?: string | undefined; fix?: string[]; warnings?: string[] },
): BackendCheck {
  return {
    backend,
    status,
    reason: fields.reason,
    cause: fields.cause,
    detail: fields.detail,
    fix: fields.fix ?? [],
    warnings: fields.warnings ?? [],
  };
}
