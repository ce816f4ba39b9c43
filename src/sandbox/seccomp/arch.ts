/** The architectures a seccomp filter is built for, named as the kernel's syscall tables name them. */
export type SeccompArch = "x86_64" | "aarch64";

/** Every architecture a filter can be built for. */
export const SECCOMP_ARCHES = ["x86_64", "aarch64"] as const satisfies readonly SeccompArch[];

/**
 * The AUDIT_ARCH_* value the kernel puts in seccomp_data.arch (include/uapi/linux/audit.h):
 * the ELF machine, plus __AUDIT_ARCH_64BIT (0x80000000) and __AUDIT_ARCH_LE (0x40000000).
 */
export const AUDIT_ARCH: Record<SeccompArch, number> = {
  x86_64: 0xc000003e, // EM_X86_64 = 62
  aarch64: 0xc00000b7, // EM_AARCH64 = 183
};

/**
 * x86_64 only: a syscall number with this bit set is an x32 syscall. x32 shares AUDIT_ARCH_X86_64,
 * so the arch check alone does not catch it (arch/x86/include/uapi/asm/unistd.h).
 */
export const X32_SYSCALL_BIT = 0x40000000;

/** Maps a `process.arch` value to the architecture of its filter, or undefined where there is none. */
export function hostSeccompArch(nodeArch: string = process.arch): SeccompArch | undefined {
  if (nodeArch === "x64") return "x86_64";
  if (nodeArch === "arm64") return "aarch64";
  return undefined;
}
