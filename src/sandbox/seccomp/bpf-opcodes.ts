/**
 * Classic BPF opcodes (include/uapi/linux/filter.h, linux/bpf_common.h): the ones a seccomp filter
 * may use. An opcode is class | size | mode, class | op | source, or class | return source.
 */
export const BPF = {
  // classes
  LD: 0x00,
  LDX: 0x01,
  ALU: 0x04,
  JMP: 0x05,
  RET: 0x06,
  MISC: 0x07,
  // size and mode of loads
  W: 0x00,
  IMM: 0x00,
  ABS: 0x20,
  LEN: 0x80,
  // ALU operations
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  XOR: 0xa0,
  // jumps
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  // operand source: the constant k, or the X register
  K: 0x00,
  X: 0x08,
  // what RET returns: k, or the accumulator
  A: 0x10,
  // MISC operations
  TAX: 0x00,
  TXA: 0x80,
} as const;

/** struct sock_filter: u16 code, u8 jt, u8 jf, u32 k. */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Bytes of one struct sock_filter. */
export const BPF_INSTRUCTION_BYTES = 8;
/** BPF_MAXINSNS: the kernel refuses longer programs. */
export const BPF_MAX_INSTRUCTIONS = 4096;

/** Encodes instructions as the kernel reads struct sock_filter on a little-endian CPU. */
export function encodeBpf(instructions: readonly BpfInstruction[]): Uint8Array {
  const bytes = new Uint8Array(instructions.length * BPF_INSTRUCTION_BYTES);
  const view = new DataView(bytes.buffer);
  instructions.forEach(({ code, jt, jf, k }, index) => {
    const at = index * BPF_INSTRUCTION_BYTES;
    view.setUint16(at, code, true);
    view.setUint8(at + 2, jt);
    view.setUint8(at + 3, jf);
    view.setUint32(at + 4, k >>> 0, true);
  });
  return bytes;
}

/** Decodes struct sock_filter bytes; throws a RangeError when the length is not a whole number of them. */
export function decodeBpf(bytes: Uint8Array): BpfInstruction[] {
  if (bytes.byteLength % BPF_INSTRUCTION_BYTES !== 0) {
    throw new RangeError(`a BPF program is a multiple of 8 bytes, not ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const instructions: BpfInstruction[] = [];
  for (let at = 0; at < bytes.byteLength; at += BPF_INSTRUCTION_BYTES) {
    instructions.push({ code: view.getUint16(at, true), jt: view.getUint8(at + 2), jf: view.getUint8(at + 3), k: view.getUint32(at + 4, true) });
  }
  return instructions;
}
