import type { DenyAction, DenyErrno } from "./actions.ts";
import type { ArgumentIndex } from "./seccomp-data.ts";
import type { SyscallName } from "./syscall-numbers.ts";

/**
 * A test on the low 32 bits of one argument; the rule denies only the calls for which it holds.
 * Only for arguments the kernel reads as 32 bits (int, unsigned int, clone's flags): on a 64-bit
 * argument a caller could set the high word and slip past.
 */
export type ArgumentCondition =
  /** (arg & mask) is one of `values`. */
  | { arg: ArgumentIndex; test: "one-of"; mask?: number; values: readonly number[] }
  /** (arg & mask) is none of `values`: everything but what is listed is denied. */
  | { arg: ArgumentIndex; test: "none-of"; mask?: number; values: readonly number[] }
  /** arg & bits is not 0. */
  | { arg: ArgumentIndex; test: "any-bit"; bits: number };

/** One rule of the filter: which calls it denies, with which errno, and why. */
export interface SeccompRule {
  /** Stable, short; docs/SECURITY.md and the tests refer to it. */
  name: string;
  syscalls: readonly SyscallName[];
  /**
   * Without a condition, every call of `syscalls` is denied; with several, a call is denied when
   * all of them hold. A syscall may be in several rules only when each has a condition: the first
   * rule (in table order) whose conditions hold denies the call.
   */
  when?: ArgumentCondition | readonly ArgumentCondition[];
  /** The call fails with this errno (SECCOMP_RET_ERRNO); nothing else happens to the process. */
  action: DenyErrno;
  reason: string;
}

/** How the filter treats a whole syscall ABI rather than a syscall. */
export interface SeccompAbiRule {
  name: "foreign-arch" | "x32";
  action: DenyAction;
  reason: string;
}

// Linux constants, the same on x86_64 and aarch64.
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_VSOCK = 40;
export const AF_NETLINK = 16;
/** The netlink protocol of interfaces, addresses and routes (getifaddrs, `ip addr`). */
export const NETLINK_ROUTE = 0;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_SEQPACKET = 5;
/** The socket type without SOCK_NONBLOCK and SOCK_CLOEXEC (SOCK_TYPE_MASK). */
export const SOCK_TYPE_MASK = 0xf;
export const TCGETS = 0x5401;
export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET; CLONE_NEWTIME (0x80) is clone3 and unshare only. */
export const CLONE_NEW_NAMESPACE_FLAGS = 0x7e020000;

/** The abi rules, checked before any syscall rule. */
export const SECCOMP_ABI_RULES: readonly SeccompAbiRule[] = [
  {
    name: "foreign-arch",
    action: "kill-process",
    reason:
      "A syscall of another ABI than the filter's (i386 through int 0x80 on x86_64, AArch32 on aarch64) has other numbers, so no rule below would match it; the process is killed rather than let through.",
  },
  {
    name: "x32",
    action: "ENOSYS",
    reason:
      "x86_64 only: x32 syscalls share the x86_64 arch value but carry bit 0x40000000 in their number, so they would slip past every number below; they fail as on a kernel built without x32.",
  },
];

/** The syscall rules. A syscall appears in one unconditional rule, or in conditional ones only; everything not listed is allowed. */
export const SECCOMP_RULES: readonly SeccompRule[] = [
  {
    name: "unix-and-vsock-sockets",
    syscalls: ["socket"],
    when: { arg: 0, test: "one-of", values: [AF_UNIX, AF_VSOCK] },
    action: "EPERM",
    reason:
      "A network namespace does not cut unix sockets bound on a path: a host socket under a bound directory still answers, and with the network allowed so do the host's abstract sockets. vsock is not namespaced and reaches the hypervisor's services. AF_INET and AF_INET6 stay, for --allow-network; AF_NETLINK is the next rule's.",
  },
  {
    name: "netlink-sockets",
    syscalls: ["socket"],
    when: [
      { arg: 0, test: "one-of", values: [AF_NETLINK] },
      { arg: 2, test: "none-of", values: [NETLINK_ROUTE] },
    ],
    action: "EPERM",
    reason:
      "With --allow-network the sandbox is in the host's network namespace, where NETLINK_SOCK_DIAG lists the host's sockets, NETLINK_KOBJECT_UEVENT hears the host's device events, and the other protocols (audit, xfrm, netfilter, generic netlink and its families) are kernel surface a command has no use for. NETLINK_ROUTE stays: getifaddrs, `ip addr`, node's os.networkInterfaces() and glibc's getaddrinfo with AI_ADDRCONFIG read interfaces through it. The protocol is an int, compared on its low 32 bits.",
  },
  {
    name: "datagram-socketpairs",
    syscalls: ["socketpair"],
    when: { arg: 1, test: "none-of", mask: SOCK_TYPE_MASK, values: [SOCK_STREAM, SOCK_SEQPACKET] },
    action: "EPERM",
    reason:
      "A stream or seqpacket pair is connected to itself from birth and cannot be re-connected, listen or send to an address, so it only joins two ends inside the sandbox (pipes, IPC) and stays allowed. A datagram pair (SOCK_DGRAM, or SOCK_RAW, its synonym for AF_UNIX) can sendto() or connect() to any unix address, host sockets included.",
  },
  {
    name: "tty-injection",
    syscalls: ["ioctl"],
    when: { arg: 1, test: "one-of", values: [TIOCSTI, TIOCLINUX] },
    action: "EPERM",
    reason:
      "TIOCSTI pushes bytes into a terminal's input as if typed (dev.tty.legacy_tiocsti is 1 on our kernels), TIOCLINUX can paste a console selection; a command that reached a terminal fd could type into the user's shell. The request is compared on its low 32 bits, as the kernel reads it.",
  },
  {
    name: "io_uring",
    syscalls: ["io_uring_setup", "io_uring_enter", "io_uring_register"],
    action: "EPERM",
    reason:
      "io_uring performs socket, connect, openat and more without making those syscalls, so seccomp never sees them, and it is among the kernel's most exploited interfaces. libuv, Bun and others fall back to epoll and threads.",
  },
  {
    name: "process-access",
    syscalls: ["ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd"],
    action: "EPERM",
    reason:
      "Reading, writing or stealing fds of another process of the sandbox, such as the reaper, whose fd 4 carries the wait status the server trusts. Debuggers (gdb, strace) do not work inside.",
  },
  {
    name: "kernel-keyrings",
    syscalls: ["keyctl", "add_key", "request_key"],
    action: "EPERM",
    reason:
      "The keyrings are not fully namespaced: a session or user keyring of the host's user may hold credentials (Kerberos, ecryptfs), and the key subsystem has a history of exploitable bugs.",
  },
  {
    name: "perf-events",
    syscalls: ["perf_event_open"],
    action: "EPERM",
    reason: "Performance counters are a side channel on other processes and the kernel, and a large attack surface.",
  },
  {
    name: "bpf",
    syscalls: ["bpf"],
    action: "EPERM",
    reason: "Even where kernel.unprivileged_bpf_disabled allows it, the eBPF verifier is a frequent source of privilege escalations.",
  },
  {
    name: "userfaultfd",
    syscalls: ["userfaultfd"],
    action: "EPERM",
    reason: "Lets a process stall the kernel in the middle of a copy from user memory, the standard way to widen race windows in kernel exploits.",
  },
  {
    name: "kernel-modules-and-reboot",
    syscalls: ["init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot"],
    action: "EPERM",
    reason:
      "Already out of reach (they need capabilities in the host's initial namespaces, and every capability is dropped); denied again so that a mistake elsewhere does not bring them back.",
  },
  {
    name: "namespaces",
    syscalls: ["unshare", "setns"],
    action: "EPERM",
    reason:
      "A new user namespace gives its creator every capability inside it, and with them mounts, netfilter and other kernel code that unprivileged users otherwise never reach: the usual first step of a kernel exploit. Nothing a command needs unshares; both are denied whole.",
  },
  {
    name: "namespace-clones",
    syscalls: ["clone"],
    when: { arg: 0, test: "any-bit", bits: CLONE_NEW_NAMESPACE_FLAGS },
    action: "EPERM",
    reason: "The same door through clone: denied only with a CLONE_NEW* flag, so fork, vfork and threads stay.",
  },
  {
    name: "clone3",
    syscalls: ["clone3"],
    action: "ENOSYS",
    reason:
      "clone3 takes its flags in a struct in memory, which seccomp cannot read, so CLONE_NEW* would pass unseen. ENOSYS makes glibc and others fall back to clone, whose flags the rule above checks.",
  },
  {
    name: "mounts",
    syscalls: [
      "mount", "umount2", "pivot_root", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
      "mount_setattr", "open_tree_attr",
    ],
    action: "EPERM",
    reason: "Changing the mount tree is bwrap's job, done before the filter is loaded; the command has no business with it, old or new mount API.",
  },
  {
    name: "ldt",
    syscalls: ["modify_ldt"],
    action: "EPERM",
    reason:
      "x86_64 only: a process's own segment descriptors, needed by 16-bit code and old Wine, and the way into several kernel bugs (CVE-2015-3290, CVE-2017-17053); Docker's default profile denies it too.",
  },
  {
    name: "file-handles",
    syscalls: ["open_by_handle_at"],
    action: "EPERM",
    reason: "Opens a file by its handle without any path, which a mount namespace cannot hide (the Docker \"shocker\" escape).",
  },
];
