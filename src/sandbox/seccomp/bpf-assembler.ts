import { BPF, BPF_MAX_INSTRUCTIONS, encodeBpf, type BpfInstruction } from "./bpf-opcodes.ts";

/** Where a conditional jump goes: a label, or `next` (the following instruction). */
export type JumpTarget = string;
/** The instruction right after the jump. */
export const NEXT: JumpTarget = "";

/** One line of a program: an instruction whose jumps name labels, or a label. */
export type BpfLine =
  | { kind: "label"; name: string }
  | { kind: "load-word"; offset: number }
  | { kind: "and"; k: number }
  | { kind: "jump"; op: "jeq" | "jge" | "jset"; k: number; ifTrue: JumpTarget; ifFalse: JumpTarget }
  | { kind: "return"; k: number };

export const label = (name: string): BpfLine => ({ kind: "label", name });
/** A = the 32-bit word at `offset` of seccomp_data. */
export const loadWord = (offset: number): BpfLine => ({ kind: "load-word", offset });
/** A &= k. */
export const and = (k: number): BpfLine => ({ kind: "and", k });
/** if (A op k) goto ifTrue else goto ifFalse; jset tests A & k != 0. */
export const jump = (op: "jeq" | "jge" | "jset", k: number, ifTrue: JumpTarget, ifFalse: JumpTarget = NEXT): BpfLine => ({
  kind: "jump",
  op,
  k,
  ifTrue,
  ifFalse,
});
export const ret = (k: number): BpfLine => ({ kind: "return", k });

const JUMP_OPS = { jeq: BPF.JEQ, jge: BPF.JGE, jset: BPF.JSET } as const;
/** jt and jf are u8: a conditional jump reaches at most 255 instructions ahead. */
const MAX_JUMP = 255;

/**
 * Resolves labels and encodes the program. Throws when a label is unknown or defined twice, a jump
 * would go backwards or past 255 instructions, or the program is empty or too long.
 */
export function assembleBpf(lines: readonly BpfLine[]): Uint8Array {
  const labels = new Map<string, number>();
  let count = 0;
  for (const line of lines) {
    if (line.kind !== "label") count++;
    else if (line.name === NEXT) throw new Error("a BPF label needs a name");
    else if (labels.has(line.name)) throw new Error(`BPF label ${JSON.stringify(line.name)} is defined twice`);
    else labels.set(line.name, count);
  }
  if (count === 0 || count > BPF_MAX_INSTRUCTIONS) throw new RangeError(`a BPF program has 1 to ${BPF_MAX_INSTRUCTIONS} instructions, not ${count}`);

  const offsetTo = (target: JumpTarget, from: number): number => {
    if (target === NEXT) return 0;
    const at = labels.get(target);
    if (at === undefined) throw new Error(`BPF label ${JSON.stringify(target)} is not defined`);
    const offset = at - (from + 1);
    if (offset < 0 || offset > MAX_JUMP) throw new RangeError(`BPF jump to ${JSON.stringify(target)} spans ${offset} instructions (0 to ${MAX_JUMP})`);
    return offset;
  };

  const instructions: BpfInstruction[] = [];
  for (const line of lines) {
    const index = instructions.length;
    switch (line.kind) {
      case "label":
        break;
      case "load-word":
        instructions.push({ code: BPF.LD | BPF.W | BPF.ABS, jt: 0, jf: 0, k: line.offset });
        break;
      case "and":
        instructions.push({ code: BPF.ALU | BPF.AND | BPF.K, jt: 0, jf: 0, k: line.k });
        break;
      case "jump":
        instructions.push({
          code: BPF.JMP | JUMP_OPS[line.op] | BPF.K,
          jt: offsetTo(line.ifTrue, index),
          jf: offsetTo(line.ifFalse, index),
          k: line.k,
        });
        break;
      case "return":
        instructions.push({ code: BPF.RET | BPF.K, jt: 0, jf: 0, k: line.k });
        break;
      default: {
        const unknown: never = line;
        throw new Error(`unknown BPF line ${JSON.stringify(unknown)}`);
      }
    }
  }
  return encodeBpf(instructions);
}
