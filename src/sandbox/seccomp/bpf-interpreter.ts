import { BPF, BPF_MAX_INSTRUCTIONS, decodeBpf, type BpfInstruction } from "./bpf-opcodes.ts";
import { encodeSeccompData, SECCOMP_DATA_BYTES, type SeccompData } from "./seccomp-data.ts";

/**
 * A classic-BPF interpreter for seccomp filters, so that the decisions of a filter for any
 * architecture can be checked on any machine. It refuses what the kernel's checker refuses
 * (net/core/filter.c bpf_check_classic, kernel/seccomp.c seccomp_check_filter): bad lengths,
 * jumps out of the program, loads outside seccomp_data or not 4-byte aligned, division by a zero
 * constant, a last instruction that is not a return, and opcodes seccomp does not allow. The
 * scratch memory (ST, STX, LD MEM) is allowed by the kernel but not needed here, and refused.
 */

const ALU_OPS = new Set<number>([BPF.ADD, BPF.SUB, BPF.MUL, BPF.DIV, BPF.AND, BPF.OR, BPF.XOR, BPF.LSH, BPF.RSH]);
const CONDITIONAL_JUMPS = new Set<number>([BPF.JEQ, BPF.JGT, BPF.JGE, BPF.JSET]);

const opcodeName = (code: number) => `0x${code.toString(16).padStart(4, "0")}`;

/** Throws an Error naming the first instruction the kernel would refuse. */
export function checkSeccompBpf(instructions: readonly BpfInstruction[]): void {
  if (instructions.length === 0 || instructions.length > BPF_MAX_INSTRUCTIONS) {
    throw new Error(`a filter has 1 to ${BPF_MAX_INSTRUCTIONS} instructions, not ${instructions.length}`);
  }
  instructions.forEach(({ code, jt, jf, k }, pc) => {
    const refuse = (why: string) => {
      throw new Error(`instruction ${pc} (${opcodeName(code)}): ${why}`);
    };
    const remaining = instructions.length - pc - 1;
    const cls = code & 0x07;
    const op = code & 0xf0;
    if (code === (BPF.LD | BPF.W | BPF.ABS)) {
      if (k % 4 !== 0 || k >= SECCOMP_DATA_BYTES) refuse(`load at offset ${k} is outside seccomp_data or unaligned`);
    } else if (code === (BPF.LD | BPF.W | BPF.LEN) || code === (BPF.LDX | BPF.W | BPF.LEN)) {
      // The kernel rewrites these into loads of the constant 64.
    } else if (code === (BPF.LD | BPF.IMM) || code === (BPF.LDX | BPF.IMM)) {
      // Constants.
    } else if (cls === BPF.ALU) {
      if (code === (BPF.ALU | BPF.NEG)) return;
      if (!ALU_OPS.has(op) || (code & ~0xf8) !== BPF.ALU) refuse("not an ALU operation seccomp allows");
      if (op === BPF.DIV && (code & BPF.X) === 0 && k === 0) refuse("division by the constant 0");
    } else if (cls === BPF.JMP) {
      if (code === (BPF.JMP | BPF.JA)) {
        if (k >= remaining) refuse(`jump of ${k} leaves the program`);
      } else if (CONDITIONAL_JUMPS.has(op) && (code & ~0xf8) === BPF.JMP) {
        if (jt >= remaining || jf >= remaining) refuse(`jump of ${jt}/${jf} leaves the program`);
      } else {
        refuse("not a jump seccomp allows");
      }
    } else if (code === (BPF.RET | BPF.K) || code === (BPF.RET | BPF.A)) {
      // Returns.
    } else if (code === (BPF.MISC | BPF.TAX) || code === (BPF.MISC | BPF.TXA)) {
      // Register moves.
    } else {
      refuse("not an instruction seccomp allows (or scratch memory, which this interpreter does not run)");
    }
  });
  const last = instructions[instructions.length - 1];
  if (last && last.code !== (BPF.RET | BPF.K) && last.code !== (BPF.RET | BPF.A)) {
    throw new Error("the last instruction is not a return");
  }
}

function alu(op: number, a: number, operand: number): number {
  switch (op) {
    case BPF.ADD: return (a + operand) >>> 0;
    case BPF.SUB: return (a - operand) >>> 0;
    case BPF.MUL: return Math.imul(a, operand) >>> 0;
    case BPF.DIV: return operand === 0 ? 0 : Math.floor(a / operand) >>> 0;
    case BPF.AND: return (a & operand) >>> 0;
    case BPF.OR: return (a | operand) >>> 0;
    case BPF.XOR: return (a ^ operand) >>> 0;
    case BPF.LSH: return operand >= 32 ? 0 : (a << operand) >>> 0;
    case BPF.RSH: return operand >= 32 ? 0 : a >>> operand;
    default: throw new Error(`unknown ALU operation ${opcodeName(op)}`);
  }
}

function jumpTaken(op: number, a: number, operand: number): boolean {
  switch (op) {
    case BPF.JEQ: return a === operand;
    case BPF.JGT: return a > operand;
    case BPF.JGE: return a >= operand;
    case BPF.JSET: return (a & operand) !== 0;
    default: throw new Error(`unknown jump ${opcodeName(op)}`);
  }
}

/**
 * Runs a seccomp filter (struct sock_filter bytes) over one syscall and returns the filter's
 * 32-bit return value, as the kernel would compute it. Throws when the kernel would refuse the program.
 */
export function runSeccompBpf(program: Uint8Array, data: SeccompData): number {
  const instructions = decodeBpf(program);
  checkSeccompBpf(instructions);
  const bytes = encodeSeccompData(data);
  const view = new DataView(bytes.buffer);
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < instructions.length; pc++) {
    const { code, jt, jf, k } = instructions[pc] as BpfInstruction;
    const cls = code & 0x07;
    const operand = (code & BPF.X) !== 0 ? x : k >>> 0;
    if (code === (BPF.LD | BPF.W | BPF.ABS)) a = view.getUint32(k, true);
    else if (code === (BPF.LD | BPF.W | BPF.LEN)) a = SECCOMP_DATA_BYTES;
    else if (code === (BPF.LDX | BPF.W | BPF.LEN)) x = SECCOMP_DATA_BYTES;
    else if (code === (BPF.LD | BPF.IMM)) a = k >>> 0;
    else if (code === (BPF.LDX | BPF.IMM)) x = k >>> 0;
    else if (code === (BPF.ALU | BPF.NEG)) a = -a >>> 0;
    else if (cls === BPF.ALU) a = alu(code & 0xf0, a, operand);
    else if (code === (BPF.JMP | BPF.JA)) pc += k;
    else if (cls === BPF.JMP) pc += jumpTaken(code & 0xf0, a, operand) ? jt : jf;
    else if (code === (BPF.RET | BPF.K)) return k >>> 0;
    else if (code === (BPF.RET | BPF.A)) return a;
    else if (code === (BPF.MISC | BPF.TAX)) x = a;
    else if (code === (BPF.MISC | BPF.TXA)) a = x;
  }
  throw new Error("the filter ran off its end"); // unreachable after checkSeccompBpf
}
