import type { SeccompArch } from "./arch.ts";

/** The syscalls the rules name (see rules.ts); nothing else needs a number. */
export const SYSCALL_NAMES = [
  "socket", "socketpair", "ioctl", "clone", "clone3", "unshare", "setns",
  "mount", "umount2", "pivot_root", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
  "mount_setattr", "open_tree_attr", "open_by_handle_at",
  "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
  "io_uring_setup", "io_uring_enter", "io_uring_register",
  "keyctl", "add_key", "request_key", "perf_event_open", "bpf", "userfaultfd",
  "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
  "modify_ldt",
] as const;

export type SyscallName = (typeof SYSCALL_NAMES)[number];

/** Syscalls that exist on x86_64 only: aarch64 has no number for them, so nothing to filter there. */
export const X86_64_ONLY_SYSCALLS = ["modify_ldt"] as const satisfies readonly SyscallName[];
type X86_64OnlySyscall = (typeof X86_64_ONLY_SYSCALLS)[number];

/**
 * Syscall numbers per architecture. x86_64: arch/x86/entry/syscalls/syscall_64.tbl ("common" and
 * "64" entries). aarch64: the generic table, include/uapi/asm-generic/unistd.h (since 6.11 generated
 * from scripts/syscall.tbl), which has no open, fork or socketcall. Numbers from 424 up are the same
 * on every architecture. Checked against the 6.1 uapi headers of this machine; open_tree_attr
 * (6.15) against the kernel's tables.
 */
export const SYSCALL_NUMBERS: { x86_64: Record<SyscallName, number>; aarch64: Record<Exclude<SyscallName, X86_64OnlySyscall>, number> } = {
  x86_64: {
    socket: 41, socketpair: 53, ioctl: 16, clone: 56, clone3: 435, unshare: 272, setns: 308,
    mount: 165, umount2: 166, pivot_root: 155, open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431,
    fsmount: 432, fspick: 433, mount_setattr: 442, open_tree_attr: 467, open_by_handle_at: 304,
    ptrace: 101, process_vm_readv: 310, process_vm_writev: 311, pidfd_getfd: 438,
    io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427,
    keyctl: 250, add_key: 248, request_key: 249, perf_event_open: 298, bpf: 321, userfaultfd: 323,
    init_module: 175, finit_module: 313, delete_module: 176, kexec_load: 246, kexec_file_load: 320, reboot: 169,
    modify_ldt: 154,
  },
  aarch64: {
    socket: 198, socketpair: 199, ioctl: 29, clone: 220, clone3: 435, unshare: 97, setns: 268,
    mount: 40, umount2: 39, pivot_root: 41, open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431,
    fsmount: 432, fspick: 433, mount_setattr: 442, open_tree_attr: 467, open_by_handle_at: 265,
    ptrace: 117, process_vm_readv: 270, process_vm_writev: 271, pidfd_getfd: 438,
    io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427,
    keyctl: 219, add_key: 217, request_key: 218, perf_event_open: 241, bpf: 280, userfaultfd: 282,
    init_module: 105, finit_module: 273, delete_module: 106, kexec_load: 104, kexec_file_load: 294, reboot: 142,
  },
};

/** The number of `name` on `arch`, or undefined where the architecture has no such syscall. */
export function syscallNumberOn(arch: SeccompArch, name: SyscallName): number | undefined {
  const numbers: Partial<Record<SyscallName, number>> = SYSCALL_NUMBERS[arch];
  return numbers[name];
}
