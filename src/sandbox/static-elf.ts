import type { ReaperArch } from "./reaper.ts";

const ELF_HEADER_BYTES = 64;
const PROGRAM_HEADER_BYTES = 56;
const PROGRAM_HEADER_COUNT = 2;
const CODE_OFFSET = ELF_HEADER_BYTES + PROGRAM_HEADER_BYTES * PROGRAM_HEADER_COUNT;
/** The classic static-executable base: above vm.mmap_min_addr, aligned to 64 KiB pages. */
const LOAD_ADDRESS = 0x400000n;
/** 64 KiB covers every page size arm64 kernels use (4, 16, 64 KiB) and x86_64's 4 KiB. */
const SEGMENT_ALIGN = 0x10000n;
const ELF_MACHINE: Record<ReaperArch, number> = { x64: 62, arm64: 183 };
const PT_LOAD = 1;
const PT_GNU_STACK = 0x6474e551;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;

/**
 * A complete static ELF64 executable around position-independent machine code (the reaper's,
 * enter's): no interpreter, no libc, one segment, entry right after the headers.
 */
export function buildStaticElf(code: Uint8Array, arch: ReaperArch): Uint8Array {
  const elf = new Uint8Array(CODE_OFFSET + code.length);
  const view = new DataView(elf.buffer);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // magic, ELFCLASS64, little-endian, EV_CURRENT
  view.setUint16(16, 2, true); // ET_EXEC: loaded at LOAD_ADDRESS, no interpreter
  view.setUint16(18, ELF_MACHINE[arch], true);
  view.setUint32(20, 1, true); // EV_CURRENT
  view.setBigUint64(24, LOAD_ADDRESS + BigInt(CODE_OFFSET), true); // entry: right after the headers
  view.setBigUint64(32, BigInt(ELF_HEADER_BYTES), true); // program headers follow the ELF header
  view.setUint16(52, ELF_HEADER_BYTES, true);
  view.setUint16(54, PROGRAM_HEADER_BYTES, true);
  view.setUint16(56, PROGRAM_HEADER_COUNT, true);
  // One segment maps the whole file, headers included, read and execute only.
  writeProgramHeader(view, 0, PT_LOAD, PF_R | PF_X, BigInt(elf.length), SEGMENT_ALIGN);
  // Without PT_GNU_STACK, x86_64 kernels before 5.8 set READ_IMPLIES_EXEC, a personality flag
  // that execve keeps: every readable mapping of the command would become executable.
  writeProgramHeader(view, 1, PT_GNU_STACK, PF_R | PF_W, 0n, 16n);
  elf.set(code, CODE_OFFSET);
  return elf;
}

function writeProgramHeader(view: DataView, index: number, type: number, flags: number, size: bigint, align: bigint): void {
  const at = ELF_HEADER_BYTES + index * PROGRAM_HEADER_BYTES;
  const vaddr = type === PT_LOAD ? LOAD_ADDRESS : 0n;
  view.setUint32(at, type, true);
  view.setUint32(at + 4, flags, true);
  view.setBigUint64(at + 8, 0n, true); // p_offset
  view.setBigUint64(at + 16, vaddr, true);
  view.setBigUint64(at + 24, vaddr, true); // p_paddr
  view.setBigUint64(at + 32, size, true); // p_filesz
  view.setBigUint64(at + 40, size, true); // p_memsz
  view.setBigUint64(at + 48, align, true);
}
