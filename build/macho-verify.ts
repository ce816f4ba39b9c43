/**
 * Checks a Mach-O executable's code signature the way the kernel and `codesign --verify --strict`
 * check an ad-hoc one, so that a darwin binary built on Linux is known to start on a Mac before
 * it is released: every page before the signature hashed, every hash right, nothing after it.
 */
import { readMachOLayout } from "./macho-layout.ts";
import { CODE_PAGE_BITS, hashCodePages } from "./macho-sign.ts";

const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_ADHOC = 0x2;
const CS_HASHTYPE_SHA256 = 2;

/** What is wrong with the signature of `file`, one sentence each; empty when it is a valid ad-hoc signature. */
export function findSignatureProblems(file: Uint8Array): string[] {
  let layout;
  try {
    layout = readMachOLayout(file);
  } catch (error) {
    return [(error as Error).message];
  }
  const { dataOffset, dataSize } = layout.signature;
  if (dataOffset + dataSize !== file.byteLength) return [`the signature ends at ${dataOffset + dataSize}, the file at ${file.byteLength}`];
  const view = new DataView(file.buffer, file.byteOffset + dataOffset, dataSize);
  if (dataSize < 20 || view.getUint32(0) !== CSMAGIC_EMBEDDED_SIGNATURE) return ["no embedded signature at LC_CODE_SIGNATURE's offset"];
  const blobCount = view.getUint32(8);
  let directory: number | undefined;
  for (let index = 0; index < blobCount; index++) {
    const blob = view.getUint32(12 + index * 8 + 4);
    if (view.getUint32(12 + index * 8) === 0 && view.getUint32(blob) === CSMAGIC_CODEDIRECTORY) directory = blob;
  }
  if (directory === undefined) return ["the signature has no CodeDirectory"];

  const problems: string[] = [];
  const flags = view.getUint32(directory + 12);
  const hashOffset = view.getUint32(directory + 16);
  const pageCount = view.getUint32(directory + 28);
  const codeLimit = view.getUint32(directory + 32);
  if ((flags & CS_ADHOC) === 0) problems.push(`CodeDirectory flags 0x${flags.toString(16)}: not ad hoc, so its certificate no longer matches what it signed`);
  if (view.getUint8(directory + 36) !== 32 || view.getUint8(directory + 37) !== CS_HASHTYPE_SHA256 || view.getUint8(directory + 39) !== CODE_PAGE_BITS) {
    return [...problems, "the CodeDirectory does not hash 4 KiB pages with SHA-256"];
  }
  if (codeLimit !== dataOffset) problems.push(`the signature covers ${codeLimit} bytes, not the ${dataOffset} before it`);
  const hashes = hashCodePages(file.subarray(0, codeLimit));
  if (hashes.length !== pageCount) return [...problems, `${pageCount} page hashes for ${hashes.length} pages`];
  const wrong = hashes.filter((hash, page) => !Buffer.from(hash).equals(Buffer.from(view.buffer, view.byteOffset + directory! + hashOffset + page * 32, 32)));
  if (wrong.length > 0) problems.push(`${wrong.length} of ${pageCount} page hashes do not match the file`);
  return problems;
}
