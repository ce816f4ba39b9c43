import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeSeccompReturn, type SeccompDecision } from "../../src/sandbox/seccomp/actions.ts";
import { AUDIT_ARCH, hostSeccompArch, SECCOMP_ARCHES, type SeccompArch } from "../../src/sandbox/seccomp/arch.ts";
import { runSeccompBpf } from "../../src/sandbox/seccomp/bpf-interpreter.ts";
import { buildSeccompFilter } from "../../src/sandbox/seccomp/build-filter.ts";
import { installSeccompFilter } from "../../src/sandbox/seccomp/install-filter.ts";
import {
  AF_INET,
  AF_INET6,
  AF_NETLINK,
  AF_UNIX,
  AF_VSOCK,
  CLONE_NEW_NAMESPACE_FLAGS,
  NETLINK_ROUTE,
  SECCOMP_ABI_RULES,
  SECCOMP_RULES,
  SOCK_DGRAM,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  TCGETS,
  TIOCLINUX,
  TIOCSTI,
} from "../../src/sandbox/seccomp/rules.ts";
import { SYSCALL_NAMES, syscallNumberOn, X86_64_ONLY_SYSCALLS, type SyscallName } from "../../src/sandbox/seccomp/syscall-numbers.ts";

/** Syscalls the rules do not name, for the allowed cases (same tables as syscall-numbers.ts cites). */
const OTHER_NUMBERS = {
  x86_64: { read: 0, write: 1, openat: 257, execve: 59, fork: 57, vfork: 58, close_range: 436, wait4: 61 },
  aarch64: { read: 63, write: 64, openat: 56, execve: 221, close_range: 436, wait4: 260 },
} as const;

const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_ARM = 0x40000028;
/** Netlink protocols (include/uapi/linux/netlink.h) besides NETLINK_ROUTE. */
const NETLINK_PROTOCOLS = { NETLINK_SOCK_DIAG: 4, NETLINK_AUDIT: 9, NETLINK_KOBJECT_UEVENT: 15, NETLINK_GENERIC: 16, NETLINK_NETFILTER: 12, NETLINK_XFRM: 6 };
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const FIONREAD = 0x541b;
const SIGCHLD = 17;
/** What glibc's pthread_create passes to clone: VM, FS, FILES, SIGHAND, THREAD, SYSVSEM, SETTLS, PARENT_SETTID, CHILD_CLEARTID. */
const THREAD_FLAGS = 0x3d0f00;
const CLONE_NEW_FLAGS = { NEWNS: 0x20000, NEWCGROUP: 0x2000000, NEWUTS: 0x4000000, NEWIPC: 0x8000000, NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000 };

const ALLOW: SeccompDecision = { action: "allow" };
const EPERM: SeccompDecision = { action: "errno", errno: 1 };
const ENOSYS: SeccompDecision = { action: "errno", errno: 38 };
const KILL: SeccompDecision = { action: "kill-process" };

const filters = Object.fromEntries(SECCOMP_ARCHES.map((arch) => [arch, buildSeccompFilter(arch)])) as Record<SeccompArch, Uint8Array>;

/** What the kernel does with syscall `nr` and `args` under the filter for `arch`, seen from `auditArch`. */
function decide(arch: SeccompArch, nr: number, args: (number | bigint)[] = [], auditArch: number = AUDIT_ARCH[arch]): SeccompDecision {
  const full = [0, 1, 2, 3, 4, 5].map((index) => BigInt(args[index] ?? 0)) as [bigint, bigint, bigint, bigint, bigint, bigint];
  return describeSeccompReturn(runSeccompBpf(filters[arch], { nr, arch: auditArch, instructionPointer: 0x7fff_dead_beefn, args: full }));
}

const call = (arch: SeccompArch, name: SyscallName, args: (number | bigint)[] = []) => decide(arch, syscallNumberOn(arch, name)!, args);

describe.each(SECCOMP_ARCHES)("the %s filter", (arch) => {
  test("is a whole number of sock_filter instructions that the kernel's checker accepts", () => {
    expect(filters[arch].byteLength % 8).toBe(0);
    expect(decide(arch, OTHER_NUMBERS[arch].read)).toEqual(ALLOW); // runSeccompBpf checks the program first
  });

  test("starts by loading seccomp_data.arch", () => {
    expect([...filters[arch].subarray(0, 8)]).toEqual([0x20, 0, 0, 0, 4, 0, 0, 0]);
  });

  test("is the same bytes every time it is built", () => {
    expect(buildSeccompFilter(arch)).toEqual(filters[arch]);
  });

  test.each(
    SECCOMP_RULES.filter((rule) => !rule.when).flatMap((rule) =>
      rule.syscalls.filter((name) => syscallNumberOn(arch, name) !== undefined).map((name) => [name, rule.action, rule.name] as const),
    ),
  )("denies %s with %s (rule %s)", (name, errno) => {
    expect(call(arch, name, [1, 2, 3])).toEqual(errno === "ENOSYS" ? ENOSYS : EPERM);
  });

  test.each(Object.entries(OTHER_NUMBERS[arch]))("allows %s", (_name, nr) => {
    expect(decide(arch, nr, [3, 0, 4096])).toEqual(ALLOW);
  });

  test("allows a syscall number no rule knows, for the kernel to answer ENOSYS", () => {
    expect(decide(arch, 1000)).toEqual(ALLOW);
  });

  test.each([
    ["AF_UNIX", AF_UNIX, EPERM],
    ["AF_VSOCK", AF_VSOCK, EPERM],
    ["AF_INET", AF_INET, ALLOW],
    ["AF_INET6", AF_INET6, ALLOW],
    ["AF_NETLINK", AF_NETLINK, ALLOW],
  ])("socket(%s, SOCK_STREAM) is decided by its family", (_family, family, decision) => {
    expect(call(arch, "socket", [family, SOCK_STREAM, 0])).toEqual(decision);
  });

  test.each([
    ["NETLINK_ROUTE", NETLINK_ROUTE, ALLOW],
    ...Object.entries(NETLINK_PROTOCOLS).map(([name, protocol]) => [name, protocol, EPERM] as const),
    ["NETLINK_SOCK_DIAG with garbage in the high 32 bits", (0xdead_beefn << 32n) | 4n, EPERM],
    ["an unknown protocol (31)", 31, EPERM],
  ])("socket(AF_NETLINK, SOCK_RAW, %s) is decided by its protocol", (_protocol, protocol, decision) => {
    expect(call(arch, "socket", [AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol])).toEqual(decision);
    expect(call(arch, "socket", [AF_NETLINK, SOCK_DGRAM, protocol])).toEqual(decision);
  });

  test("the netlink protocol matters only for AF_NETLINK: socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) stays", () => {
    expect(call(arch, "socket", [AF_INET, SOCK_STREAM, 6])).toEqual(ALLOW);
    expect(call(arch, "socket", [AF_INET6, SOCK_DGRAM, 17])).toEqual(ALLOW);
    expect(call(arch, "socket", [AF_UNIX, SOCK_STREAM, 4])).toEqual(EPERM);
  });

  test("socket(AF_UNIX) is denied whatever the high word of the family register holds", () => {
    // The kernel reads the family as an int; the filter compares the same low 32 bits.
    expect(call(arch, "socket", [(0xffff_ffffn << 32n) | BigInt(AF_UNIX), SOCK_STREAM, 0])).toEqual(EPERM);
  });

  test.each([
    ["SOCK_STREAM", SOCK_STREAM, ALLOW],
    ["SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK", SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, ALLOW],
    ["SOCK_SEQPACKET | SOCK_CLOEXEC", SOCK_SEQPACKET | SOCK_CLOEXEC, ALLOW],
    ["SOCK_DGRAM", SOCK_DGRAM, EPERM],
    ["SOCK_DGRAM | SOCK_CLOEXEC", SOCK_DGRAM | SOCK_CLOEXEC, EPERM],
    ["SOCK_RAW (a datagram socket for AF_UNIX)", SOCK_RAW, EPERM],
  ])("socketpair(AF_UNIX, %s) is decided by its type", (_type, type, decision) => {
    expect(call(arch, "socketpair", [AF_UNIX, type, 0, 0x1000])).toEqual(decision);
  });

  test.each([
    ["TIOCSTI", BigInt(TIOCSTI), EPERM],
    ["TIOCLINUX", BigInt(TIOCLINUX), EPERM],
    ["TIOCSTI with garbage in the high 32 bits", (0xdead_beefn << 32n) | BigInt(TIOCSTI), EPERM],
    ["TCGETS", BigInt(TCGETS), ALLOW],
    ["FIONREAD", BigInt(FIONREAD), ALLOW],
    ["TIOCSTI in the high 32 bits only", BigInt(TIOCSTI) << 32n, ALLOW],
  ])("ioctl(fd, %s) is decided by the low 32 bits of the request", (_request, request, decision) => {
    expect(call(arch, "ioctl", [0, request, 0x1000])).toEqual(decision);
  });

  test.each([
    ["fork (SIGCHLD)", SIGCHLD, ALLOW],
    ["a thread", THREAD_FLAGS, ALLOW],
    ["vfork (CLONE_VM | CLONE_VFORK | SIGCHLD)", 0x4000 | 0x100 | SIGCHLD, ALLOW],
    ...Object.entries(CLONE_NEW_FLAGS).map(([name, flag]) => [`CLONE_${name} | SIGCHLD`, flag | SIGCHLD, EPERM] as const),
    ["CLONE_NEWUSER in the high 32 bits only (the kernel ignores them)", BigInt(CLONE_NEW_FLAGS.NEWUSER) << 32n, ALLOW],
  ])("clone(%s)", (_flags, flags, decision) => {
    expect(call(arch, "clone", [flags, 0, 0, 0, 0])).toEqual(decision);
  });

  test("clone3 fails with ENOSYS, so that libc falls back to clone", () => {
    expect(call(arch, "clone3", [0x1000, 88])).toEqual(ENOSYS);
  });

  test("kills a syscall of another architecture", () => {
    const foreign = arch === "x86_64" ? [AUDIT_ARCH_I386, AUDIT_ARCH.aarch64] : [AUDIT_ARCH_ARM, AUDIT_ARCH.x86_64];
    for (const auditArch of foreign) {
      expect(decide(arch, OTHER_NUMBERS[arch].read, [], auditArch)).toEqual(KILL);
      expect(decide(arch, 0, [], auditArch)).toEqual(KILL);
    }
  });
});

describe("the x32 ABI on x86_64", () => {
  const X32 = 0x40000000;

  test.each([
    ["read", X32 | 0],
    ["socket", X32 | 41],
    ["an x32-only number (512, rt_sigaction)", X32 | 512],
  ])("fails %s with ENOSYS", (_name, nr) => {
    expect(decide("x86_64", nr, [AF_INET])).toEqual(ENOSYS);
  });

  test("has no counterpart on aarch64, where such a number is just unknown to the kernel", () => {
    expect(decide("aarch64", X32 | 198, [AF_UNIX])).toEqual(ALLOW);
  });
});

describe("the rule table", () => {
  test("names a syscall in one rule, or in several only when each has a condition, and each rule once", () => {
    const shared = SECCOMP_RULES.flatMap((rule) => rule.syscalls).filter((name, index, all) => all.indexOf(name) !== index);
    for (const name of shared) expect(SECCOMP_RULES.filter((rule) => rule.syscalls.includes(name)).every((rule) => rule.when !== undefined)).toBe(true);
    expect(shared).toEqual(["socket"]);
    const names = [...SECCOMP_RULES, ...SECCOMP_ABI_RULES].map((rule) => rule.name);
    expect(new Set(names).size).toBe(names.length);
  });

  test("numbers exactly the syscalls the rules name, on every architecture", () => {
    expect([...SYSCALL_NAMES].sort()).toEqual([...new Set(SECCOMP_RULES.flatMap((rule) => rule.syscalls))].sort());
    const unnumbered = (arch: SeccompArch) => SYSCALL_NAMES.filter((name) => syscallNumberOn(arch, name) === undefined);
    expect(unnumbered("x86_64")).toEqual([]);
    expect(unnumbered("aarch64")).toEqual([...X86_64_ONLY_SYSCALLS]);
  });

  test.each(SECCOMP_ARCHES)("gives each syscall its own number on %s", (arch) => {
    const numbers = SYSCALL_NAMES.map((name) => syscallNumberOn(arch, name)).filter((nr) => nr !== undefined);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  test("agrees with the generic table where every architecture shares numbers (424 and up)", () => {
    for (const name of SYSCALL_NAMES) {
      const x86 = syscallNumberOn("x86_64", name)!;
      if (x86 >= 424) expect([name, syscallNumberOn("aarch64", name)]).toEqual([name, x86]);
    }
  });

  test("modify_ldt is denied on x86_64; aarch64 has no such syscall, and its number there (154, setpgid) stays allowed", () => {
    expect(call("x86_64", "modify_ldt", [0, 0x1000, 16])).toEqual(EPERM);
    expect(decide("aarch64", 154, [0])).toEqual(ALLOW);
  });

  test("pins the new-namespace flags to CLONE_NEW{NS,CGROUP,UTS,IPC,USER,PID,NET}", () => {
    expect(CLONE_NEW_NAMESPACE_FLAGS).toBe(Object.values(CLONE_NEW_FLAGS).reduce((all, flag) => all | flag, 0));
  });

  test("gives every rule a reason", () => {
    for (const rule of [...SECCOMP_RULES, ...SECCOMP_ABI_RULES]) expect(rule.reason.length).toBeGreaterThan(40);
  });

  test("is described in docs/SECURITY.md, rule by rule and syscall by syscall", () => {
    const docs = readFileSync(join(import.meta.dir, "../../docs/SECURITY.md"), "utf8");
    const section = docs.slice(docs.indexOf("### seccomp filter"));
    expect(section.length).toBeLessThan(docs.length);
    const missing = [...SECCOMP_RULES, ...SECCOMP_ABI_RULES]
      .flatMap((rule) => [rule.name, ...("syscalls" in rule ? rule.syscalls : [])])
      .filter((word) => !section.includes(`\`${word}\``));
    expect(missing).toEqual([]);
  });
});

describe("hostSeccompArch", () => {
  test("maps process.arch names to filter architectures", () => {
    expect([hostSeccompArch("x64"), hostSeccompArch("arm64"), hostSeccompArch("ia32"), hostSeccompArch("riscv64")]).toEqual([
      "x86_64",
      "aarch64",
      undefined,
      undefined,
    ]);
  });

  test("defaults to this process's architecture", () => {
    expect(hostSeccompArch()).toBe(hostSeccompArch(process.arch));
  });
});

describe("installSeccompFilter", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bunker-seccomp-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("writes a read-only filter file, again on a second call, and leaves no temporary file", () => {
    const path = installSeccompFilter(dir, "aarch64");
    expect(installSeccompFilter(dir, "aarch64")).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o444);
    expect([...readFileSync(path)]).toEqual([...filters.aarch64]);
    expect(readdirSync(dir)).toEqual(["seccomp-aarch64.bpf"]);
  });
});
