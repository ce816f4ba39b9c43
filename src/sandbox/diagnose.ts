/**
 * `bunker doctor`'s verdict, computed from HostFacts alone: which backends exist, which work, why
 * not and what to do, and which one `bunker serve --sandbox auto` would pick. Pure, so that every
 * host this machine cannot be (Ubuntu's AppArmor, a locked-down container, macOS) is a test case.
 */
import { backendCheck, type BackendCheck } from "./diagnose-causes.ts";
import { diagnoseBwrap } from "./diagnose-bwrap.ts";
import type { HostFacts } from "./diagnose-facts.ts";
import { asRoot, installPackageCommand } from "./diagnose-fix.ts";
import { FALLBACK_NOT_ENFORCED } from "./fallback.ts";
import { reaperArchFor } from "./reaper.ts";

/** A program or kernel feature the sandbox's hardening relies on; it does not decide the backend. */
export interface SupportCheck {
  name: "prlimit" | "seccomp";
  present: boolean;
  /** One line: where it was found, or what its absence costs. */
  reason: string;
  fix: string[];
}

/** What `bunker serve --sandbox auto` would run with on this host. */
export interface AutoChoice {
  backend: "bwrap" | "seatbelt" | "none";
  /** Whether that backend is an OS sandbox; false means the workspace-only fallback. */
  sandboxed: boolean;
  /** For `none`: what it does not enforce, as hello.sandbox.notEnforced says it. */
  notEnforced: string[];
}

/** Everything `bunker doctor` reports. */
export interface SandboxDiagnosis {
  checks: BackendCheck[];
  support: SupportCheck[];
  auto: AutoChoice;
}

function diagnoseSeatbelt(facts: HostFacts): BackendCheck {
  if (facts.platform !== "darwin") {
    return backendCheck("seatbelt", "missing", { cause: "other-platform", reason: "sandbox-exec exists only on macOS" });
  }
  if (facts.sandboxExecPath === undefined) {
    return backendCheck("seatbelt", "missing", {
      cause: "not-installed",
      reason: "/usr/bin/sandbox-exec is missing, though every macOS ships it",
      fix: ["reinstall or update macOS; sandbox-exec is part of the system, not a package"],
    });
  }
  const probe = facts.seatbeltProbe;
  if (probe === undefined) return backendCheck("seatbelt", "broken", { cause: "unknown", reason: "sandbox-exec was not probed" });
  if (probe.ok) return backendCheck("seatbelt", "works", { reason: `${facts.sandboxExecPath} ran /usr/bin/true with bunker's profile` });
  // seatbelt.ts words its two failures differently: the trivial profile failing means sandbox-exec
  // cannot sandbox here at all (already inside a sandbox); bunker's profile failing means this macOS
  // does not know one of its rules.
  if (probe.reason.startsWith("sandbox-exec rejected")) {
    return backendCheck("seatbelt", "broken", {
      cause: "profile-rejected",
      reason: "sandbox-exec rejected bunker's profile",
      detail: probe.reason,
      fix: ["update macOS, or report the rule named above as a bunker bug"],
    });
  }
  return backendCheck("seatbelt", "broken", {
    cause: "nested-sandbox",
    reason: "sandbox-exec cannot sandbox here: bunker seems to run inside another sandbox",
    detail: probe.reason,
    fix: ["start bunker from a plain Terminal, not from inside a sandboxed app or another sandbox-exec"],
  });
}

function diagnoseFallback(): BackendCheck {
  return backendCheck("none", "works", { reason: "always available: a clean environment and cwd in the workspace, but no OS isolation" });
}

/**
 * prlimit, only where something runs it: the fallback on an architecture without a reaper. Where
 * there is a reaper (x64, arm64), it sets the limits for bwrap and the fallback alike, and a
 * missing prlimit called for installing util-linux that nothing would use.
 */
function diagnosePrlimit(facts: HostFacts): SupportCheck[] {
  if (reaperArchFor(facts.arch) !== undefined) return [];
  if (facts.prlimitPath !== undefined) return [{ name: "prlimit", present: true, reason: `found at ${facts.prlimitPath}`, fix: [] }];
  return [
    {
      name: "prlimit",
      present: false,
      reason: `prlimit is not in /usr/bin or /bin: bunker has no reaper for ${facts.arch}, so the fallback sets resource limits with prlimit, and sets none without it`,
      fix: [asRoot(installPackageCommand(facts.distro, "util-linux"), facts.uid)],
    },
  ];
}

function diagnoseSupport(facts: HostFacts): SupportCheck[] {
  if (facts.platform !== "linux") return [];
  return [
    ...diagnosePrlimit(facts),
    facts.seccomp?.supported === false
      ? {
          name: "seccomp",
          present: false,
          reason: "the kernel has no seccomp (no Seccomp line in /proc/self/status): no syscall filter can be installed",
          fix: ["boot a kernel with CONFIG_SECCOMP_FILTER=y (every mainstream distribution kernel has it)"],
        }
      : { name: "seccomp", present: true, reason: "the kernel supports seccomp filters", fix: [] },
  ];
}

/** The backend detect.ts's `auto` picks: the platform's own sandbox when it works, else the fallback. */
function chooseAuto(facts: HostFacts, checks: readonly BackendCheck[]): AutoChoice {
  const native = facts.platform === "linux" ? "bwrap" : facts.platform === "darwin" ? "seatbelt" : undefined;
  const works = checks.some((check) => check.backend === native && check.status === "works");
  if (native !== undefined && works) return { backend: native, sandboxed: true, notEnforced: [] };
  return { backend: "none", sandboxed: false, notEnforced: [...FALLBACK_NOT_ENFORCED] };
}

/** Diagnoses every backend from the host's facts. Pure: reads nothing, runs nothing. */
export function diagnoseSandbox(facts: HostFacts): SandboxDiagnosis {
  const checks = [diagnoseBwrap(facts), diagnoseSeatbelt(facts), diagnoseFallback()];
  return { checks, support: diagnoseSupport(facts), auto: chooseAuto(facts, checks) };
}
