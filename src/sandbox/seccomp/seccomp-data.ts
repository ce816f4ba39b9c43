/**
 * struct seccomp_data, what a filter reads (include/uapi/linux/seccomp.h): 64 bytes in the CPU's
 * byte order, little-endian on both x86_64 and aarch64.
 */
export interface SeccompData {
  nr: number;
  /** An AUDIT_ARCH_* value. */
  arch: number;
  instructionPointer: bigint;
  /** The six syscall arguments, as the registers held them (64 bits each). */
  args: readonly [bigint, bigint, bigint, bigint, bigint, bigint];
}

export const SECCOMP_DATA_BYTES = 64;
export const OFFSET_NR = 0;
export const OFFSET_ARCH = 4;
const OFFSET_INSTRUCTION_POINTER = 8;
const OFFSET_ARGS = 16;

/** An argument index, 0 to 5. */
export type ArgumentIndex = 0 | 1 | 2 | 3 | 4 | 5;

/**
 * Offset of the low 32 bits of argument `index` (little-endian: the low word comes first). Classic
 * BPF loads 32-bit words; rules compare only the low word, which is exact for the arguments the
 * kernel itself truncates to 32 bits (int and unsigned int parameters, clone's flags).
 */
export function argumentLowWordOffset(index: ArgumentIndex): number {
  return OFFSET_ARGS + index * 8;
}

/** Lays `data` out as the kernel hands it to a filter. */
export function encodeSeccompData(data: SeccompData): Uint8Array {
  const bytes = new Uint8Array(SECCOMP_DATA_BYTES);
  const view = new DataView(bytes.buffer);
  view.setInt32(OFFSET_NR, data.nr, true);
  view.setUint32(OFFSET_ARCH, data.arch >>> 0, true);
  view.setBigUint64(OFFSET_INSTRUCTION_POINTER, BigInt.asUintN(64, data.instructionPointer), true);
  data.args.forEach((arg, index) => view.setBigUint64(OFFSET_ARGS + index * 8, BigInt.asUintN(64, arg), true));
  return bytes;
}
