import { dirname } from "node:path";
import { backendCheck, type BackendCheck, type DiagnosisCause } from "./diagnose-causes.ts";
import type { ContainerHint, HostFacts, ProgramOutcome } from "./diagnose-facts.ts";
import { asRoot, installPackageCommand } from "./diagnose-fix.ts";
import { reaperArchFor } from "./reaper.ts";

/** Plenty for every sandbox one host runs, and still far from unlimited. */
const MAX_USER_NAMESPACES_FIX = 15000;

/** The AppArmor profile Ubuntu documents for a program that needs user namespaces, for bwrap at its path. */
function bwrapAppArmorProfile(bwrapPath: string): string {
  return `abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile bwrap ${bwrapPath} flags=(unconfined) {\\n  userns,\\n  include if exists <local/bwrap>\\n}\\n`;
}

/** A sysctl change now, and how to keep it across reboots. */
function sysctlFix(name: string, value: number, uid: number | undefined): string[] {
  return [
    asRoot(`sysctl -w ${name}=${value}`, uid),
    `to keep it after a reboot: echo '${name}=${value}' | ${asRoot(`tee /etc/sysctl.d/60-bunker-userns.conf`, uid)}`,
  ];
}

/** How to let the container build namespaces, in the words of its runtime. */
function containerFix(container: ContainerHint | undefined, cause: DiagnosisCause): string[] {
  const elsewhere = "or run bunker on the host or in a VM, where bwrap needs none of this";
  switch (container?.kind) {
    case "kubernetes":
      return [
        "in the pod's securityContext: seccompProfile: {type: Unconfined} and appArmorProfile: {type: Unconfined}" +
          (cause === "container-proc" ? ", and procMount: Unmasked" : ""),
        elsewhere,
      ];
    case "lxc":
      return ["lxc config set CONTAINER security.nesting=true, then restart the container", elsewhere];
    case "podman":
      return [
        `podman run --security-opt seccomp=unconfined --security-opt apparmor=unconfined${cause === "container-proc" ? " --security-opt unmask=ALL" : ""} ...`,
        elsewhere,
      ];
    default: {
      const unmask = cause === "container-proc" ? " --security-opt systempaths=unconfined" : "";
      return [
        `docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined${unmask} ...`,
        `or keep Docker's seccomp profile and add the capability it asks for: docker run --cap-add SYS_ADMIN --security-opt apparmor=unconfined${unmask} ...`,
        elsewhere,
      ];
    }
  }
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

/** Why a probe failed and what to do. */
interface Verdict {
  cause: DiagnosisCause;
  reason: string;
  fix: string[];
}

/** Why the kernel refused bwrap a user namespace (EPERM), from what else is known about the host. */
function explainNamespaceRefused(facts: HostFacts): Verdict {
  const { sysctls, uid, container } = facts;
  if (container !== undefined && uid === 0) {
    return {
      cause: "container-seccomp",
      reason: `inside a container (${container.kind}: ${container.evidence}) whose seccomp profile forbids creating namespaces`,
      fix: containerFix(container, "container-seccomp"),
    };
  }
  if (sysctls.unprivilegedUsernsClone === 0 && uid !== 0) {
    return {
      cause: "userns-disabled",
      reason: "the kernel forbids user namespaces to users other than root (kernel.unprivileged_userns_clone=0)",
      fix: sysctlFix("kernel.unprivileged_userns_clone", 1, uid),
    };
  }
  if (sysctls.apparmorRestrictUnprivilegedUserns === 1 && uid !== 0) return explainAppArmor(facts);
  if (container !== undefined) {
    return {
      cause: "container-seccomp",
      reason: `inside a container (${container.kind}: ${container.evidence}) that forbids creating namespaces`,
      fix: containerFix(container, "container-seccomp"),
    };
  }
  if (facts.seccomp?.mode === 2) {
    return {
      cause: "seccomp-filter",
      reason: "a seccomp filter on bunker's own process forbids creating namespaces",
      fix: [
        "under systemd: remove RestrictNamespaces= (or allow user, pid, net, ipc, uts, cgroup and mnt) and SystemCallFilter= limits from the unit",
        "otherwise find what started bunker under a filter (Seccomp: 2 in /proc/self/status) and start it without one",
      ],
    };
  }
  return {
    cause: "unknown",
    reason: "the kernel refused bwrap a new namespace, for no reason the doctor can see",
    fix: ["run `bwrap --unshare-all --ro-bind / / /bin/true` by hand, and look for AppArmor or SELinux denials in `dmesg`"],
  };
}

/** AppArmor's restriction: the sysctl that lifts it, or the narrower profile for bwrap alone. */
function explainAppArmor(facts: HostFacts): Verdict {
  const bwrapPath = facts.bwrapPath ?? "/usr/bin/bwrap";
  const profilePath = "/etc/apparmor.d/bwrap";
  return {
    cause: "apparmor-userns",
    reason: "AppArmor forbids unprivileged user namespaces to programs without a profile (kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 24.04 and later)",
    fix: [
      ...sysctlFix("kernel.apparmor_restrict_unprivileged_userns", 0, facts.uid).map((line, index) =>
        index === 0 ? `${line}   (lifts the restriction for every program)` : line,
      ),
      `or, narrower, a profile that lets only bwrap create user namespaces, as Ubuntu documents: printf '${bwrapAppArmorProfile(bwrapPath)}' | ${asRoot(`tee ${profilePath}`, facts.uid)} && ${asRoot(`apparmor_parser -r ${profilePath}`, facts.uid)}`,
    ],
  };
}

/** Classifies a failed bwrap run by what bwrap printed, read together with the host's facts. */
function explainProbeFailure(probe: ProgramOutcome, facts: HostFacts): Verdict {
  const stderr = probe.stderr;
  const uid = facts.uid;
  if (/setting up uid map: Permission denied|Failed RTM_NEWADDR/.test(stderr) && facts.sysctls.apparmorRestrictUnprivilegedUserns === 1) {
    return explainAppArmor(facts);
  }
  if (/No permissions to create(ing)? new namespace|Creating new namespace failed: Operation not permitted/.test(stderr)) {
    return explainNamespaceRefused(facts);
  }
  if (/Creating new namespace failed.*ENOSPC|max_\*_namespaces exceeded/.test(stderr)) {
    if (facts.sysctls.maxUserNamespaces === 0) {
      return {
        cause: "userns-limit",
        reason: "user namespaces are switched off for everyone, root included (user.max_user_namespaces=0)",
        fix: sysctlFix("user.max_user_namespaces", MAX_USER_NAMESPACES_FIX, uid),
      };
    }
    return {
      cause: "userns-limit",
      reason: "no user namespace is left to create: the nesting depth or user.max_user_namespaces is used up (inside another sandbox?)",
      fix: [`raise the limit: ${asRoot(`sysctl -w user.max_user_namespaces=${MAX_USER_NAMESPACES_FIX}`, uid)}`, "or run bunker outside the sandbox it is in"],
    };
  }
  if (/does not support user namespaces/.test(stderr)) {
    return {
      cause: "kernel-no-userns",
      reason: "the kernel was built without user namespaces (CONFIG_USER_NS)",
      fix: ["boot a kernel with CONFIG_USER_NS=y (every mainstream distribution kernel has it)"],
    };
  }
  if (/Can't mount proc/.test(stderr)) {
    if (facts.container !== undefined) {
      return {
        cause: "container-proc",
        reason: `inside a container (${facts.container.kind}: ${facts.container.evidence}) that masks parts of /proc, so the kernel refuses a new /proc`,
        fix: containerFix(facts.container, "container-proc"),
      };
    }
    return {
      cause: "nested-sandbox",
      reason: "the kernel refuses a new /proc: bunker seems to run inside another sandbox that hides parts of its /proc",
      fix: ["run bunker outside that sandbox (not from inside bwrap, Flatpak or a sandboxed app)"],
    };
  }
  if (/Failed to make \/ slave|Permission denied|Operation not permitted/.test(stderr) && facts.container !== undefined) {
    return {
      cause: "container-apparmor",
      reason: `inside a container (${facts.container.kind}: ${facts.container.evidence}) whose AppArmor profile forbids the mounts bwrap makes`,
      fix: containerFix(facts.container, "container-apparmor"),
    };
  }
  if (facts.sysctls.apparmorRestrictUnprivilegedUserns === 1 && uid !== 0) return explainAppArmor(facts);
  return {
    cause: "unknown",
    reason: `bwrap failed its probe with exit code ${probe.exitCode ?? "none"}`,
    fix: ["run `bwrap --unshare-all --ro-bind / / /bin/true` by hand to see more, and look for denials in `dmesg`"],
  };
}

/** Warnings for a bwrap that works only because bunker runs as root. */
function rootOnlyWarnings(facts: HostFacts): string[] {
  if (facts.uid !== 0) return [];
  const warnings: string[] = [];
  if (facts.sysctls.unprivilegedUsernsClone === 0) {
    warnings.push("works because bunker runs as root: kernel.unprivileged_userns_clone=0 would stop bwrap started as any other user");
  }
  if (facts.sysctls.apparmorRestrictUnprivilegedUserns === 1) {
    warnings.push("works because bunker runs as root: AppArmor's user namespace restriction would stop bwrap started as any other user");
  }
  return warnings;
}

/** bwrap works, but not in its setup namespace: the server will run, weakened (SECURITY.md). */
function setupNamespaceWarnings(facts: HostFacts): string[] {
  const probe = facts.setupNamespaceProbe;
  if (probe === undefined || probe.exitCode === 0) return [];
  const why = probe.spawnError ?? (firstLine(probe.stderr) || (probe.timedOut ? "it timed out" : `exit code ${probe.exitCode}`));
  return [`bwrap's setup namespace does not work here (${why}): the server will start with the sandbox.weakened warning, and bwrap will make its mount points on the host (docs/SECURITY.md)`];
}

/** bwrap works in its setup namespace, but a session's commands cannot share a network namespace (shared-network.ts). */
function sharedNetworkWarnings(facts: HostFacts): string[] {
  const probe = facts.sharedNetworkProbe;
  if (probe === undefined || probe.exitCode === 0) return [];
  const why = probe.spawnError ?? (firstLine(probe.stderr) || (probe.timedOut ? "it timed out" : `exit code ${probe.exitCode}`));
  return [`a session's commands cannot share a network namespace here (${why}): each command gets its own, so a server one command runs is not reached from the next; the server logs sandbox.network_not_shared (docs/TROUBLESHOOTING.md)`];
}

/** The bwrap verdict: installed? runnable here? and if not, why, and what to do. */
export function diagnoseBwrap(facts: HostFacts): BackendCheck {
  if (facts.platform !== "linux") {
    return backendCheck("bwrap", "missing", { cause: "other-platform", reason: "bwrap exists only on Linux" });
  }
  const install = asRoot(installPackageCommand(facts.distro, "bubblewrap"), facts.uid);
  if (facts.bwrapPath === undefined) {
    const offPath = facts.bwrapOffPath;
    return backendCheck("bwrap", "missing", {
      cause: "not-installed",
      reason: offPath === undefined ? "bwrap is not on PATH" : `bwrap is not on PATH, though ${offPath} exists`,
      fix: offPath === undefined ? [install] : [`put ${dirname(offPath)} on the PATH bunker starts with`, `or install it: ${install}`],
    });
  }
  if (reaperArchFor(facts.arch) === undefined) {
    return backendCheck("bwrap", "broken", {
      cause: "unsupported-arch",
      reason: `bunker has no reaper for the ${facts.arch} architecture`,
      fix: ["run bunker on x86_64 or aarch64, or use --sandbox none knowing what it does not enforce"],
    });
  }
  const probe = facts.bwrapProbe;
  const version = facts.bwrapVersion === undefined ? "bwrap" : `bwrap ${facts.bwrapVersion}`;
  if (probe === undefined) {
    return backendCheck("bwrap", "broken", { cause: "unknown", reason: `${version} at ${facts.bwrapPath} was not probed` });
  }
  if (probe.exitCode === 0) {
    return backendCheck("bwrap", "works", {
      reason: `${version} at ${facts.bwrapPath} ran /bin/true with the server's flags${facts.setupNamespaceProbe?.exitCode === 0 ? ", in its setup namespace" : ""}${facts.sharedNetworkProbe?.exitCode === 0 ? " and in a network namespace a session's commands share" : ""}`,
      warnings: [...rootOnlyWarnings(facts), ...setupNamespaceWarnings(facts), ...sharedNetworkWarnings(facts)],
    });
  }
  if (probe.timedOut) {
    return backendCheck("bwrap", "broken", {
      cause: "probe-timeout",
      reason: `${version} did not finish its probe in time`,
      fix: ["run `bunker doctor` again on a less loaded machine; if it hangs again, run `bwrap --unshare-all --ro-bind / / /bin/true` by hand"],
    });
  }
  if (probe.spawnError !== undefined) {
    return backendCheck("bwrap", "broken", {
      cause: "cannot-run",
      reason: `${facts.bwrapPath} could not be started`,
      detail: probe.spawnError,
      fix: [`check it with: ls -l ${facts.bwrapPath}`, `reinstall it: ${install}`],
    });
  }
  return backendCheck("bwrap", "broken", { ...explainProbeFailure(probe, facts), detail: firstLine(probe.stderr) || undefined });
}
