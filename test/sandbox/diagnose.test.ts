import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DIAGNOSIS_CAUSES, type BackendCheck } from "../../src/sandbox/diagnose-causes.ts";
import type { HostFacts, ProgramOutcome } from "../../src/sandbox/diagnose-facts.ts";
import { diagnoseSandbox, type AutoChoice } from "../../src/sandbox/diagnose.ts";
import { FALLBACK_NOT_ENFORCED } from "../../src/sandbox/fallback.ts";

/** An Ubuntu 24.04 desktop where a normal user's bwrap works: each test changes what its case needs. */
function ubuntuFacts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    platform: "linux",
    arch: "x64",
    uid: 1000,
    distro: { id: "ubuntu", idLike: ["debian"], versionId: "24.04", prettyName: "Ubuntu 24.04.1 LTS" },
    bwrapPath: "/usr/bin/bwrap",
    bwrapOffPath: undefined,
    bwrapVersion: "0.9.0",
    sandboxExecPath: undefined,
    prlimitPath: "/usr/bin/prlimit",
    sysctls: { unprivilegedUsernsClone: 1, maxUserNamespaces: 63000, apparmorRestrictUnprivilegedUserns: 0 },
    seccomp: { supported: true, mode: 0 },
    container: undefined,
    bwrapProbe: { exitCode: 0, stderr: "", timedOut: false },
    setupNamespaceProbe: { exitCode: 0, stderr: "", timedOut: false },
    seatbeltProbe: undefined,
    ...overrides,
  };
}

function failedProbe(stderr: string, exitCode = 1): ProgramOutcome {
  return { exitCode, stderr, timedOut: false };
}

function bwrapCheck(facts: HostFacts): BackendCheck {
  const check = diagnoseSandbox(facts).checks.find((candidate) => candidate.backend === "bwrap");
  if (!check) throw new Error("no bwrap check");
  return check;
}

const FALLBACK_CHOICE: AutoChoice = { backend: "none", sandboxed: false, notEnforced: FALLBACK_NOT_ENFORCED };

describe("bwrap on Linux", () => {
  test("works when the probe ran, and serve's auto would pick it", () => {
    const diagnosis = diagnoseSandbox(ubuntuFacts());
    expect(diagnosis.checks).toEqual([
      {
        backend: "bwrap",
        status: "works",
        reason: "bwrap 0.9.0 at /usr/bin/bwrap ran /bin/true with the server's flags, in its setup namespace",
        cause: undefined,
        detail: undefined,
        fix: [],
        warnings: [],
      },
      {
        backend: "seatbelt",
        status: "missing",
        reason: "sandbox-exec exists only on macOS",
        cause: "other-platform",
        detail: undefined,
        fix: [],
        warnings: [],
      },
      {
        backend: "none",
        status: "works",
        reason: "always available: a clean environment and cwd in the workspace, but no OS isolation",
        cause: undefined,
        detail: undefined,
        fix: [],
        warnings: [],
      },
    ]);
    expect(diagnosis.auto).toEqual({ backend: "bwrap", sandboxed: true, notEnforced: [] });
  });

  test("blames AppArmor's user namespace restriction on Ubuntu 24.04, with the sysctl and the profile as fixes", () => {
    const facts = ubuntuFacts({
      sysctls: { unprivilegedUsernsClone: 1, maxUserNamespaces: 63000, apparmorRestrictUnprivilegedUserns: 1 },
      bwrapProbe: failedProbe("bwrap: setting up uid map: Permission denied"),
    });
    const diagnosis = diagnoseSandbox(facts);
    expect(diagnosis.checks[0]).toEqual({
      backend: "bwrap",
      status: "broken",
      reason:
        "AppArmor forbids unprivileged user namespaces to programs without a profile (kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 24.04 and later)",
      cause: "apparmor-userns",
      detail: "bwrap: setting up uid map: Permission denied",
      fix: [
        "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0   (lifts the restriction for every program)",
        "to keep it after a reboot: echo 'kernel.apparmor_restrict_unprivileged_userns=0' | sudo tee /etc/sysctl.d/60-bunker-userns.conf",
        "or, narrower, a profile that lets only bwrap create user namespaces, as Ubuntu documents: printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile bwrap /usr/bin/bwrap flags=(unconfined) {\\n  userns,\\n  include if exists <local/bwrap>\\n}\\n' | sudo tee /etc/apparmor.d/bwrap && sudo apparmor_parser -r /etc/apparmor.d/bwrap",
      ],
      warnings: [],
    });
    expect(diagnosis.auto).toEqual(FALLBACK_CHOICE);
  });

  test("blames AppArmor when the restriction stops bwrap at its loopback setup instead", () => {
    const facts = ubuntuFacts({
      sysctls: { unprivilegedUsernsClone: 1, maxUserNamespaces: 63000, apparmorRestrictUnprivilegedUserns: 1 },
      bwrapProbe: failedProbe("bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted"),
    });
    expect(bwrapCheck(facts).cause).toBe("apparmor-userns");
  });

  test("works as root under AppArmor's restriction, with a warning that another uid would fail", () => {
    const facts = ubuntuFacts({ uid: 0, sysctls: { unprivilegedUsernsClone: 1, maxUserNamespaces: 63000, apparmorRestrictUnprivilegedUserns: 1 } });
    expect(bwrapCheck(facts)).toMatchObject({
      status: "works",
      warnings: ["works because bunker runs as root: AppArmor's user namespace restriction would stop bwrap started as any other user"],
    });
  });

  test("works, with a warning, when bwrap runs but not in its setup namespace (the server starts weakened)", () => {
    const refused = ubuntuFacts({ setupNamespaceProbe: { exitCode: undefined, stderr: "", timedOut: false, spawnError: "bwrap could not make the setup namespace: No permissions to create new namespace" } });
    expect(bwrapCheck(refused)).toMatchObject({
      status: "works",
      warnings: [
        "bwrap's setup namespace does not work here (bwrap could not make the setup namespace: No permissions to create new namespace): the server will start with the sandbox.weakened warning, and bwrap will make its mount points on the host (docs/SECURITY.md)",
      ],
    });
    const failedInside = ubuntuFacts({ setupNamespaceProbe: failedProbe("bwrap: Can't mount proc on /newroot/proc: Operation not permitted") });
    expect(bwrapCheck(failedInside).warnings).toEqual([expect.stringContaining("(bwrap: Can't mount proc on /newroot/proc: Operation not permitted)")]);
  });

  test("says when a session's commands share a network namespace, and warns when they cannot", () => {
    expect(bwrapCheck(ubuntuFacts({ sharedNetworkProbe: { exitCode: 0, stderr: "", timedOut: false } }))).toMatchObject({
      status: "works",
      reason: "bwrap 0.9.0 at /usr/bin/bwrap ran /bin/true with the server's flags, in its setup namespace and in a network namespace a session's commands share",
      warnings: [],
    });
    const notJoined = ubuntuFacts({ sharedNetworkProbe: failedProbe("the command was in net:[4026531840], not the session's net:[4026532179]") });
    expect(bwrapCheck(notJoined)).toMatchObject({
      status: "works",
      warnings: [
        "a session's commands cannot share a network namespace here (the command was in net:[4026531840], not the session's net:[4026532179]): each command gets its own, so a server one command runs is not reached from the next; the server logs sandbox.network_not_shared (docs/TROUBLESHOOTING.md)",
      ],
    });
    const notMade = ubuntuFacts({ sharedNetworkProbe: { exitCode: undefined, stderr: "", timedOut: false, spawnError: "netns: bunker netns: cannot make a network namespace in the setup namespace (fd 7)" } });
    expect(bwrapCheck(notMade).warnings).toEqual([expect.stringContaining("(netns: bunker netns: cannot make a network namespace in the setup namespace (fd 7))")]);
  });

  test("blames kernel.unprivileged_userns_clone=0 when user namespaces are off for non-root users", () => {
    const facts = ubuntuFacts({
      distro: { id: "debian", idLike: [], versionId: "11", prettyName: "Debian GNU/Linux 11 (bullseye)" },
      sysctls: { unprivilegedUsernsClone: 0, maxUserNamespaces: 63000, apparmorRestrictUnprivilegedUserns: undefined },
      bwrapProbe: failedProbe(
        "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces. See <https://deb.li/bubblewrap> or <file:///usr/share/doc/bubblewrap/README.Debian.gz>.",
      ),
    });
    expect(bwrapCheck(facts)).toEqual({
      backend: "bwrap",
      status: "broken",
      reason: "the kernel forbids user namespaces to users other than root (kernel.unprivileged_userns_clone=0)",
      cause: "userns-disabled",
      detail:
        "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces. See <https://deb.li/bubblewrap> or <file:///usr/share/doc/bubblewrap/README.Debian.gz>.",
      fix: [
        "sudo sysctl -w kernel.unprivileged_userns_clone=1",
        "to keep it after a reboot: echo 'kernel.unprivileged_userns_clone=1' | sudo tee /etc/sysctl.d/60-bunker-userns.conf",
      ],
      warnings: [],
    });
  });

  test("blames user.max_user_namespaces=0, which stops root too", () => {
    const facts = ubuntuFacts({
      uid: 0,
      sysctls: { unprivilegedUsernsClone: 1, maxUserNamespaces: 0, apparmorRestrictUnprivilegedUserns: 0 },
      bwrapProbe: failedProbe("bwrap: Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)"),
    });
    expect(bwrapCheck(facts)).toMatchObject({
      status: "broken",
      cause: "userns-limit",
      fix: ["sysctl -w user.max_user_namespaces=15000", "to keep it after a reboot: echo 'user.max_user_namespaces=15000' | tee /etc/sysctl.d/60-bunker-userns.conf"],
    });
  });

  test("says missing with this distribution's install command when bwrap is not on PATH", () => {
    const fedora = { id: "fedora", idLike: [], versionId: "40", prettyName: "Fedora Linux 40" };
    expect(bwrapCheck(ubuntuFacts({ bwrapPath: undefined, bwrapProbe: undefined, bwrapVersion: undefined }))).toMatchObject({
      status: "missing",
      cause: "not-installed",
      reason: "bwrap is not on PATH",
      fix: ["sudo apt-get install bubblewrap"],
    });
    expect(bwrapCheck(ubuntuFacts({ distro: fedora, bwrapPath: undefined, bwrapProbe: undefined }))).toMatchObject({ fix: ["sudo dnf install bubblewrap"] });
  });

  test("points at PATH first when bwrap is installed but not on it", () => {
    const facts = ubuntuFacts({ uid: 0, bwrapPath: undefined, bwrapOffPath: "/usr/bin/bwrap", bwrapProbe: undefined });
    expect(bwrapCheck(facts)).toMatchObject({
      status: "missing",
      reason: "bwrap is not on PATH, though /usr/bin/bwrap exists",
      fix: ["put /usr/bin on the PATH bunker starts with", "or install it: apt-get install bubblewrap"],
    });
  });

  test("names an architecture without a reaper", () => {
    expect(bwrapCheck(ubuntuFacts({ arch: "riscv64", bwrapProbe: undefined }))).toMatchObject({ status: "broken", cause: "unsupported-arch" });
  });

  test("reports a bwrap that cannot be started, and one that hangs", () => {
    const unstartable = ubuntuFacts({ bwrapProbe: { exitCode: undefined, stderr: "", timedOut: false, spawnError: "Command failed with EACCES: /usr/bin/bwrap" } });
    expect(bwrapCheck(unstartable)).toMatchObject({ status: "broken", cause: "cannot-run", detail: "Command failed with EACCES: /usr/bin/bwrap" });
    const hung = ubuntuFacts({ bwrapProbe: { exitCode: undefined, stderr: "", timedOut: true } });
    expect(bwrapCheck(hung)).toMatchObject({ status: "broken", cause: "probe-timeout" });
  });

  test("shows what bwrap said when it fails in a way nobody foresaw", () => {
    expect(bwrapCheck(ubuntuFacts({ bwrapProbe: failedProbe("bwrap: something new\nsecond line", 1) }))).toMatchObject({
      status: "broken",
      cause: "unknown",
      reason: "bwrap failed its probe with exit code 1",
      detail: "bwrap: something new",
    });
  });

  test("blames another sandbox around bunker when a new /proc is refused outside any container", () => {
    expect(bwrapCheck(ubuntuFacts({ bwrapProbe: failedProbe("bwrap: Can't mount proc on /newroot/proc: Operation not permitted") }))).toMatchObject({
      cause: "nested-sandbox",
    });
  });
});

describe("bwrap in a container", () => {
  const docker = { kind: "docker", evidence: "/.dockerenv exists" } as const;
  const refused = failedProbe("bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces.");

  test("blames Docker's seccomp profile for root in an unprivileged container, with the flags that lift it", () => {
    const facts = ubuntuFacts({ uid: 0, container: docker, seccomp: { supported: true, mode: 2 }, bwrapProbe: refused });
    expect(bwrapCheck(facts)).toMatchObject({
      status: "broken",
      cause: "container-seccomp",
      reason: "inside a container (docker: /.dockerenv exists) whose seccomp profile forbids creating namespaces",
      fix: [
        "docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined ...",
        "or keep Docker's seccomp profile and add the capability it asks for: docker run --cap-add SYS_ADMIN --security-opt apparmor=unconfined ...",
        "or run bunker on the host or in a VM, where bwrap needs none of this",
      ],
    });
    expect(diagnoseSandbox(facts).auto).toEqual(FALLBACK_CHOICE);
  });

  test("uses the runtime's own words for podman and kubernetes", () => {
    const podman = bwrapCheck(ubuntuFacts({ uid: 0, container: { kind: "podman", evidence: "/run/.containerenv exists" }, bwrapProbe: refused }));
    expect(podman.fix[0]).toBe("podman run --security-opt seccomp=unconfined --security-opt apparmor=unconfined ...");
    const kubernetes = bwrapCheck(ubuntuFacts({ uid: 0, container: { kind: "kubernetes", evidence: "/proc/1/cgroup names kubepods" }, bwrapProbe: refused }));
    expect(kubernetes.fix[0]).toBe("in the pod's securityContext: seccompProfile: {type: Unconfined} and appArmorProfile: {type: Unconfined}");
  });

  test("blames the container's masked /proc, with systempaths=unconfined", () => {
    const facts = ubuntuFacts({ uid: 0, container: docker, bwrapProbe: failedProbe("bwrap: Can't mount proc on /newroot/proc: Operation not permitted") });
    expect(bwrapCheck(facts)).toMatchObject({
      cause: "container-proc",
      fix: [
        "docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined ...",
        "or keep Docker's seccomp profile and add the capability it asks for: docker run --cap-add SYS_ADMIN --security-opt apparmor=unconfined --security-opt systempaths=unconfined ...",
        "or run bunker on the host or in a VM, where bwrap needs none of this",
      ],
    });
  });

  test("blames the container's AppArmor profile when mounts are refused", () => {
    const facts = ubuntuFacts({ uid: 0, container: docker, bwrapProbe: failedProbe("bwrap: Failed to make / slave: Permission denied") });
    expect(bwrapCheck(facts)).toMatchObject({ cause: "container-apparmor" });
  });

  test("prefers the host's sysctl over the container when a non-root user is refused and the sysctl says why", () => {
    const facts = ubuntuFacts({
      container: docker,
      sysctls: { unprivilegedUsernsClone: 0, maxUserNamespaces: 63000, apparmorRestrictUnprivilegedUserns: 0 },
      bwrapProbe: refused,
    });
    expect(bwrapCheck(facts).cause).toBe("userns-disabled");
  });

  test("blames a seccomp filter on bunker itself when no container is seen", () => {
    expect(bwrapCheck(ubuntuFacts({ uid: 0, seccomp: { supported: true, mode: 2 }, bwrapProbe: refused })).cause).toBe("seccomp-filter");
  });
});

describe("seatbelt on macOS", () => {
  const mac: Partial<HostFacts> = {
    platform: "darwin",
    arch: "arm64",
    uid: 501,
    distro: undefined,
    bwrapPath: undefined,
    bwrapProbe: undefined,
    prlimitPath: undefined,
    seccomp: undefined,
    sysctls: { unprivilegedUsernsClone: undefined, maxUserNamespaces: undefined, apparmorRestrictUnprivilegedUserns: undefined },
    sandboxExecPath: "/usr/bin/sandbox-exec",
  };

  test("works and is what auto picks; bwrap is for another platform and nothing else is checked", () => {
    const diagnosis = diagnoseSandbox(ubuntuFacts({ ...mac, seatbeltProbe: { ok: true } }));
    expect(diagnosis.checks.map(({ backend, status, cause }) => ({ backend, status, cause }))).toEqual([
      { backend: "bwrap", status: "missing", cause: "other-platform" },
      { backend: "seatbelt", status: "works", cause: undefined },
      { backend: "none", status: "works", cause: undefined },
    ]);
    expect(diagnosis.auto).toEqual({ backend: "seatbelt", sandboxed: true, notEnforced: [] });
    expect(diagnosis.support).toEqual([]);
  });

  test("tells a sandbox-exec inside another sandbox from a profile this macOS rejects", () => {
    const nested = diagnoseSandbox(ubuntuFacts({ ...mac, seatbeltProbe: { ok: false, reason: "sandbox-exec cannot run a sandboxed command: sandbox_apply: Operation not permitted" } }));
    expect(nested.checks[1]).toMatchObject({ status: "broken", cause: "nested-sandbox", detail: "sandbox-exec cannot run a sandboxed command: sandbox_apply: Operation not permitted" });
    expect(nested.auto).toEqual(FALLBACK_CHOICE);
    const rejected = diagnoseSandbox(ubuntuFacts({ ...mac, seatbeltProbe: { ok: false, reason: "sandbox-exec rejected bunker's profile (allowNetwork false): unbound variable" } }));
    expect(rejected.checks[1]).toMatchObject({ status: "broken", cause: "profile-rejected" });
  });
});

test("on a platform with no sandbox, auto falls back to none", () => {
  const diagnosis = diagnoseSandbox(ubuntuFacts({ platform: "freebsd", bwrapPath: undefined, bwrapProbe: undefined }));
  expect(diagnosis.auto).toEqual(FALLBACK_CHOICE);
  expect(diagnosis.checks.map((check) => check.status)).toEqual(["missing", "missing", "works"]);
});

describe("hardening support on Linux", () => {
  test("reports seccomp as present, and no prlimit where the reaper sets the limits (x64, arm64)", () => {
    for (const arch of ["x64", "arm64"]) {
      expect(diagnoseSandbox(ubuntuFacts({ arch })).support).toEqual([{ name: "seccomp", present: true, reason: "the kernel supports seccomp filters", fix: [] }]);
    }
  });

  test("a missing prlimit asks for no util-linux where the reaper sets the limits, with bwrap off PATH or not", () => {
    for (const facts of [ubuntuFacts({ prlimitPath: undefined }), ubuntuFacts({ prlimitPath: undefined, bwrapPath: undefined, bwrapOffPath: "/usr/bin/bwrap", bwrapProbe: undefined })]) {
      const diagnosis = diagnoseSandbox(facts);
      expect(diagnosis.support.map((item) => item.name)).toEqual(["seccomp"]);
      expect(JSON.stringify(diagnosis)).not.toContain("util-linux");
    }
  });

  test("without a reaper for the architecture, prlimit is reported, and a missing one is util-linux to install", () => {
    expect(diagnoseSandbox(ubuntuFacts({ arch: "riscv64" })).support[0]).toEqual({ name: "prlimit", present: true, reason: "found at /usr/bin/prlimit", fix: [] });
    expect(diagnoseSandbox(ubuntuFacts({ arch: "riscv64", prlimitPath: undefined })).support[0]).toEqual({
      name: "prlimit",
      present: false,
      reason: "prlimit is not in /usr/bin or /bin: bunker has no reaper for riscv64, so the fallback sets resource limits with prlimit, and sets none without it",
      fix: ["sudo apt-get install util-linux"],
    });
  });

  test("says how to get a missing seccomp", () => {
    expect(diagnoseSandbox(ubuntuFacts({ seccomp: { supported: false, mode: undefined } })).support).toEqual([
      {
        name: "seccomp",
        present: false,
        reason: "the kernel has no seccomp (no Seccomp line in /proc/self/status): no syscall filter can be installed",
        fix: ["boot a kernel with CONFIG_SECCOMP_FILTER=y (every mainstream distribution kernel has it)"],
      },
    ]);
  });
});

test("docs/TROUBLESHOOTING.md has a section for every cause", () => {
  const doc = readFileSync(join(import.meta.dir, "..", "..", "docs", "TROUBLESHOOTING.md"), "utf8");
  const missing = Object.keys(DIAGNOSIS_CAUSES).filter((cause) => !doc.includes(`\`${cause}\``));
  expect(missing).toEqual([]);
});
