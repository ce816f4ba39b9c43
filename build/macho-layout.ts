/**
 * The parts of a 64-bit Mach-O executable that an ad-hoc code signature touches: the __TEXT and
 * __LINKEDIT segments and the LC_CODE_SIGNATURE load command. Layout from Apple's <mach-o/loader.h>.
 */

const MH_MAGIC_64 = 0xfeedfacf;
const MACH_HEADER_64_BYTES = 32;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;

/** The CPU types of the two macOS targets, as `mach_header_64.cputype` names them. */
export const MACHO_CPU_TYPES = { x64: 0x01000007, arm64: 0x0100000c } as const;

/** One LC_SEGMENT_64: where its command sits in the file, and what it maps. */
export interface MachOSegment {
  commandOffset: number;
  fileOffset: number;
  fileSize: number;
  vmSize: number;
}

/** What signing and verifying need to know of a Mach-O file. */
export interface MachOLayout {
  cpuType: number;
  /** `mach_header_64.filetype`: 2 (MH_EXECUTE) for a program. */
  fileType: number;
  text: MachOSegment;
  linkedit: MachOSegment;
  /** LC_CODE_SIGNATURE: the signature's place in the file, at the end of __LINKEDIT. */
  signature: { commandOffset: number; dataOffset: number; dataSize: number };
}

/** Reads the layout; throws an Error naming what is missing when the bytes are not such a file. */
export function readMachOLayout(file: Uint8Array): MachOLayout {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.byteLength < MACH_HEADER_64_BYTES || view.getUint32(0, true) !== MH_MAGIC_64) throw new Error("not a little-endian 64-bit Mach-O file");
  const cpuType = view.getUint32(4, true);
  const fileType = view.getUint32(12, true);
  const commandCount = view.getUint32(16, true);
  const segments = new Map<string, MachOSegment>();
  let signature: MachOLayout["signature"] | undefined;
  let offset = MACH_HEADER_64_BYTES;
  for (let index = 0; index < commandCount; index++) {
    const command = view.getUint32(offset, true);
    const size = view.getUint32(offset + 4, true);
    if (command === LC_SEGMENT_64) {
      const name = new TextDecoder().decode(file.subarray(offset + 8, offset + 24)).replace(/\0+$/, "");
      segments.set(name, {
        commandOffset: offset,
        vmSize: Number(view.getBigUint64(offset + 32, true)),
        fileOffset: Number(view.getBigUint64(offset + 40, true)),
        fileSize: Number(view.getBigUint64(offset + 48, true)),
      });
    } else if (command === LC_CODE_SIGNATURE) {
      signature = { commandOffset: offset, dataOffset: view.getUint32(offset + 8, true), dataSize: view.getUint32(offset + 12, true) };
    }
    offset += size;
  }
  const text = segments.get("__TEXT");
  const linkedit = segments.get("__LINKEDIT");
  if (!text || !linkedit || !signature) throw new Error("no __TEXT, __LINKEDIT or LC_CODE_SIGNATURE: not an executable the linker signed");
  return { cpuType, fileType, text, linkedit, signature };
}
