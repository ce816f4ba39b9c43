/** Return values of a seccomp filter (include/uapi/linux/seccomp.h). */
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
/** The action part of a return value; the rest is its data (the errno for SECCOMP_RET_ERRNO). */
const SECCOMP_RET_ACTION_FULL = 0xffff0000;
const SECCOMP_RET_DATA = 0x0000ffff;

/** The errnos a rule may answer with; the numbers are the same on x86_64 and aarch64 (asm-generic/errno). */
export const ERRNO_NUMBERS = { EPERM: 1, ENOSYS: 38 } as const;
export type DenyErrno = keyof typeof ERRNO_NUMBERS;

/** What the kernel does with a syscall, decoded from a filter's return value. */
export type SeccompDecision =
  | { action: "allow" }
  | { action: "errno"; errno: number }
  | { action: "kill-process" }
  | { action: "other"; value: number };

/** What a rule does to a call: fail it with an errno, or kill the whole process. */
export type DenyAction = DenyErrno | "kill-process";

/** The filter's return value for `action`. */
export function seccompReturnFor(action: DenyAction): number {
  return action === "kill-process" ? SECCOMP_RET_KILL_PROCESS : SECCOMP_RET_ERRNO | ERRNO_NUMBERS[action];
}

/** Decodes a filter's 32-bit return value into what the kernel does with the syscall. */
export function describeSeccompReturn(value: number): SeccompDecision {
  const action = (value & SECCOMP_RET_ACTION_FULL) >>> 0;
  if (action === SECCOMP_RET_ALLOW) return { action: "allow" };
  if (action === SECCOMP_RET_ERRNO) return { action: "errno", errno: value & SECCOMP_RET_DATA };
  if (action === SECCOMP_RET_KILL_PROCESS) return { action: "kill-process" };
  return { action: "other", value: value >>> 0 };
}
