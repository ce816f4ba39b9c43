/**
 * Ad-hoc code signing of a Mach-O executable, in the form Apple's linker (and Go's, and Bun's own
 * darwin-arm64 output) writes: one CodeDirectory of SHA-256 page hashes, flagged ad-hoc and
 * linker-signed, no certificate, no entitlements. Apple silicon runs nothing unsigned, and a
 * signature whose hashes do not match the file gets the program killed at exec.
 *
 * Why bunker signs its darwin binaries itself: Bun 1.4.5's darwin-x64 output keeps the signature
 * of Bun's own runtime (Developer ID, hardened runtime) while the bundle it writes into the file
 * changes pages that signature hashes (75 of bunker's, the first one among them) and its code
 * limit ends 4.5 MB short of the signature; macOS kills a program whose signature does not match
 * it. Its darwin-arm64 output is right: signed again here, it comes out byte for byte the same
 * (test/build/macho-sign.test.ts). Re-signing needs no Apple tool: the hashes are all there is to
 * an ad-hoc signature. Layout from Apple's <kern/cs_blobs.h> (xnu).
 */
import { createHash } from "node:crypto";
import { readMachOLayout } from "./macho-layout.ts";

const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSSLOT_CODEDIRECTORY = 0;
/** The CodeDirectory version that has the exec-segment fields, and the size of its fixed header. */
const CODEDIRECTORY_VERSION = 0x20400;
const CODEDIRECTORY_HEADER_BYTES = 88;
const CS_ADHOC = 0x2;
const CS_LINKER_SIGNED = 0x20000;
const CS_HASHTYPE_SHA256 = 2;
const CS_EXECSEG_MAIN_BINARY = 0x1;
const MH_EXECUTE = 2;
const SUPERBLOB_HEADER_BYTES = 12 + 8;
const HASH_BYTES = 32;
export const CODE_PAGE_BITS = 12;
const CODE_PAGE_BYTES = 1 << CODE_PAGE_BITS;
/** A __LINKEDIT that must grow in memory grows by whole pages (16 KiB covers both architectures). */
const SEGMENT_ALIGN_BYTES = 0x4000;

/** The SHA-256 of each 4 KiB page of `code`, the last one short. */
export function hashCodePages(code: Uint8Array): Uint8Array[] {
  const hashes: Uint8Array[] = [];
  for (let start = 0; start < code.byteLength; start += CODE_PAGE_BYTES) {
    hashes.push(createHash("sha256").update(code.subarray(start, start + CODE_PAGE_BYTES)).digest());
  }
  return hashes;
}

/**
 * Returns `file` with its code signature replaced by an ad-hoc one over every byte before it: the
 * signature keeps its offset, LC_CODE_SIGNATURE and __LINKEDIT get the new size, and whatever
 * followed the old signature's end is gone. Throws when the file is not a signed executable whose
 * signature ends its __LINKEDIT.
 */
export function signMachOAdhoc(file: Uint8Array, identifier: string): Uint8Array {
  const layout = readMachOLayout(file);
  const { linkedit, signature } = layout;
  if (layout.fileType !== MH_EXECUTE) throw new Error(`Mach-O file type ${layout.fileType} is not an executable`);
  if (signature.dataOffset + signature.dataSize !== linkedit.fileOffset + linkedit.fileSize || signature.dataOffset % 16 !== 0) {
    throw new Error("the code signature is not the 16-byte-aligned end of __LINKEDIT");
  }
  const codeLimit = signature.dataOffset;
  const identifierBytes = new TextEncoder().encode(`${identifier}\0`);
  const pageCount = Math.ceil(codeLimit / CODE_PAGE_BYTES);
  const codeDirectoryBytes = CODEDIRECTORY_HEADER_BYTES + identifierBytes.byteLength + pageCount * HASH_BYTES;
  const signatureBytes = SUPERBLOB_HEADER_BYTES + codeDirectoryBytes;

  const signed = new Uint8Array(codeLimit + signatureBytes);
  signed.set(file.subarray(0, codeLimit));
  const view = new DataView(signed.buffer);
  // The load commands first: they lie in the first page, which the signature hashes too.
  view.setUint32(signature.commandOffset + 12, signatureBytes, true);
  const linkeditFileSize = codeLimit + signatureBytes - linkedit.fileOffset;
  // Its memory size stays as the linker made it unless the file part outgrows it.
  const linkeditVmSize = linkedit.vmSize >= linkeditFileSize ? linkedit.vmSize : Math.ceil(linkeditFileSize / SEGMENT_ALIGN_BYTES) * SEGMENT_ALIGN_BYTES;
  view.setBigUint64(linkedit.commandOffset + 32, BigInt(linkeditVmSize), true);
  view.setBigUint64(linkedit.commandOffset + 48, BigInt(linkeditFileSize), true);

  const superBlob = codeLimit;
  view.setUint32(superBlob, CSMAGIC_EMBEDDED_SIGNATURE);
  view.setUint32(superBlob + 4, signatureBytes);
  view.setUint32(superBlob + 8, 1);
  view.setUint32(superBlob + 12, CSSLOT_CODEDIRECTORY);
  view.setUint32(superBlob + 16, SUPERBLOB_HEADER_BYTES);

  const directory = superBlob + SUPERBLOB_HEADER_BYTES;
  const hashOffset = CODEDIRECTORY_HEADER_BYTES + identifierBytes.byteLength;
  view.setUint32(directory, CSMAGIC_CODEDIRECTORY);
  view.setUint32(directory + 4, codeDirectoryBytes);
  view.setUint32(directory + 8, CODEDIRECTORY_VERSION);
  view.setUint32(directory + 12, CS_ADHOC | CS_LINKER_SIGNED);
  view.setUint32(directory + 16, hashOffset);
  view.setUint32(directory + 20, CODEDIRECTORY_HEADER_BYTES);
  view.setUint32(directory + 24, 0); // no special slots: no Info.plist, requirements or entitlements
  view.setUint32(directory + 28, pageCount);
  view.setUint32(directory + 32, codeLimit);
  view.setUint8(directory + 36, HASH_BYTES);
  view.setUint8(directory + 37, CS_HASHTYPE_SHA256);
  view.setUint8(directory + 39, CODE_PAGE_BITS);
  // Bytes 40 to 63 (spare fields, scatter and team offsets, the 64-bit code limit) stay zero.
  view.setBigUint64(directory + 64, BigInt(layout.text.fileOffset));
  view.setBigUint64(directory + 72, BigInt(layout.text.fileSize));
  view.setBigUint64(directory + 80, BigInt(CS_EXECSEG_MAIN_BINARY));
  signed.set(identifierBytes, directory + CODEDIRECTORY_HEADER_BYTES);
  hashCodePages(signed.subarray(0, codeLimit)).forEach((hash, page) => signed.set(hash, directory + hashOffset + page * HASH_BYTES));
  return signed;
}
