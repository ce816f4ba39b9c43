import { describe, expect, test } from "bun:test";
import { and, assembleBpf, jump, label, loadWord, ret } from "../../src/sandbox/seccomp/bpf-assembler.ts";
import { checkSeccompBpf, runSeccompBpf } from "../../src/sandbox/seccomp/bpf-interpreter.ts";
import { BPF, decodeBpf, encodeBpf, type BpfInstruction } from "../../src/sandbox/seccomp/bpf-opcodes.ts";
import { encodeSeccompData, type SeccompData } from "../../src/sandbox/seccomp/seccomp-data.ts";

const DATA: SeccompData = {
  nr: 41,
  arch: 0xc000003e,
  instructionPointer: 0x1122_3344_5566_7788n,
  args: [0xaaaa_bbbb_0000_0001n, 2n, 3n, 4n, 5n, 0xffff_ffff_ffff_ffffn],
};

const RET_K = BPF.RET | BPF.K;
const LD_ABS = BPF.LD | BPF.W | BPF.ABS;
const at = (code: number, k = 0, jt = 0, jf = 0): BpfInstruction => ({ code, jt, jf, k });

describe("encodeSeccompData", () => {
  test("lays seccomp_data out little-endian: nr, arch, instruction pointer, then six 64-bit arguments", () => {
    const view = new DataView(encodeSeccompData(DATA).buffer);
    expect(view.byteLength).toBe(64);
    expect([view.getUint32(0, true), view.getUint32(4, true)]).toEqual([41, 0xc000003e]);
    expect(view.getBigUint64(8, true)).toBe(0x1122_3344_5566_7788n);
    expect([view.getUint32(16, true), view.getUint32(20, true)]).toEqual([1, 0xaaaa_bbbb]); // low word first
    expect(view.getBigUint64(56, true)).toBe(0xffff_ffff_ffff_ffffn);
  });
});

describe("encodeBpf and decodeBpf", () => {
  test("write struct sock_filter as u16 code, u8 jt, u8 jf, u32 k, little-endian", () => {
    const bytes = encodeBpf([at(BPF.JMP | BPF.JEQ | BPF.K, 0xc000003e, 1, 2)]);
    expect([...bytes]).toEqual([0x15, 0x00, 1, 2, 0x3e, 0x00, 0x00, 0xc0]);
    expect(decodeBpf(bytes)).toEqual([at(0x15, 0xc000003e, 1, 2)]);
  });

  test("refuse bytes that are not a whole number of instructions", () => {
    expect(() => decodeBpf(new Uint8Array(12))).toThrow("multiple of 8 bytes, not 12");
  });
});

describe("assembleBpf", () => {
  test("resolves labels into forward jump offsets", () => {
    const program = assembleBpf([loadWord(0), jump("jeq", 41, "deny", "allow"), label("allow"), ret(0x7fff0000), label("deny"), ret(0x50001)]);
    expect(decodeBpf(program)).toEqual([at(LD_ABS, 0), at(BPF.JMP | BPF.JEQ, 41, 1, 0), at(RET_K, 0x7fff0000), at(RET_K, 0x50001)]);
  });

  test("encodes and, jge and jset with the constant operand", () => {
    const program = assembleBpf([and(0xf), jump("jge", 7, "end"), jump("jset", 0x80, "end"), label("end"), ret(0)]);
    expect(decodeBpf(program).map((instruction) => instruction.code)).toEqual([0x54, 0x35, 0x45, 0x06]);
  });

  test("refuses an unknown label", () => {
    expect(() => assembleBpf([jump("jeq", 1, "nowhere"), ret(0)])).toThrow('BPF label "nowhere" is not defined');
  });

  test("refuses a label defined twice", () => {
    expect(() => assembleBpf([label("a"), label("a"), ret(0)])).toThrow('BPF label "a" is defined twice');
  });

  test("refuses a backward jump, which classic BPF cannot express", () => {
    expect(() => assembleBpf([label("top"), ret(0), jump("jeq", 1, "top"), ret(0)])).toThrow("spans -2 instructions");
  });

  test("refuses a jump past 255 instructions", () => {
    const filler = Array.from({ length: 256 }, () => ret(0));
    expect(() => assembleBpf([jump("jeq", 1, "far"), ...filler, label("far"), ret(0)])).toThrow("spans 256 instructions");
  });

  test("refuses an empty program", () => {
    expect(() => assembleBpf([label("only")])).toThrow("1 to 4096 instructions, not 0");
  });
});

describe("checkSeccompBpf", () => {
  test.each([
    ["a load outside seccomp_data", [at(LD_ABS, 64), at(RET_K)], "outside seccomp_data"],
    ["an unaligned load", [at(LD_ABS, 2), at(RET_K)], "unaligned"],
    ["a byte load, which seccomp does not allow", [at(BPF.LD | 0x10 | BPF.ABS, 0), at(RET_K)], "not an instruction seccomp allows"],
    ["a conditional jump out of the program", [at(BPF.JMP | BPF.JEQ, 0, 1, 0), at(RET_K)], "leaves the program"],
    ["an unconditional jump out of the program", [at(BPF.JMP | BPF.JA, 1), at(RET_K)], "leaves the program"],
    ["a division by the constant 0", [at(BPF.ALU | BPF.DIV | BPF.K, 0), at(RET_K)], "division by the constant 0"],
    ["scratch memory", [at(0x02, 0), at(RET_K)], "scratch memory"],
    ["a program that does not end in a return", [at(BPF.LD | BPF.IMM, 1)], "not a return"],
    ["an empty program", [], "not 0"],
  ])("refuses %s", (_what, instructions, message) => {
    expect(() => checkSeccompBpf(instructions)).toThrow(message);
  });
});

describe("runSeccompBpf", () => {
  const run = (instructions: BpfInstruction[]) => runSeccompBpf(encodeBpf(instructions), DATA);

  test("loads the words of seccomp_data", () => {
    expect(run([at(LD_ABS, 4), at(BPF.RET | BPF.A)])).toBe(0xc000003e);
    expect(run([at(LD_ABS, 20), at(BPF.RET | BPF.A)])).toBe(0xaaaa_bbbb);
  });

  test("follows jt when the condition holds and jf when it does not", () => {
    const program = (k: number) => [at(LD_ABS, 0), at(BPF.JMP | BPF.JEQ, k, 1, 0), at(RET_K, 100), at(RET_K, 200)];
    expect([run(program(41)), run(program(42))]).toEqual([200, 100]);
  });

  test("compares unsigned in jgt and jge", () => {
    const program = [at(LD_ABS, 60), at(BPF.JMP | BPF.JGT, 0x7fffffff, 0, 1), at(RET_K, 1), at(RET_K, 2)];
    expect(run(program)).toBe(1); // 0xffffffff > 0x7fffffff
  });

  test("computes with A and X, and returns A", () => {
    const program = [
      at(BPF.LD | BPF.IMM, 6),
      at(BPF.MISC | BPF.TAX),
      at(BPF.LD | BPF.IMM, 7),
      at(BPF.ALU | BPF.MUL | BPF.X),
      at(BPF.ALU | BPF.SUB | BPF.K, 50),
      at(BPF.ALU | BPF.NEG),
      at(BPF.RET | BPF.A),
    ];
    expect(run(program)).toBe(8); // 6 * 7 - 50 wraps to 0xfffffff8, and its negation is 8
  });

  test("takes an unconditional jump", () => {
    expect(run([at(BPF.JMP | BPF.JA, 1), at(RET_K, 1), at(RET_K, 2)])).toBe(2);
  });
});
