import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MACHO_CPU_TYPES, readMachOLayout } from "../../build/macho-layout.ts";
import { signMachOAdhoc } from "../../build/macho-sign.ts";
import { findSignatureProblems } from "../../build/macho-verify.ts";

/**
 * Real Bun output for both macOS targets, of a one-line program: cross-compiling fetches (once,
 * then from Bun's cache) the darwin runtimes from the npm registry, as build.ts --all does.
 */
let dir = "";
const compiled: Record<"x64" | "arm64", Uint8Array> = { x64: new Uint8Array(), arm64: new Uint8Array() };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bunker-macho-"));
  const entry = join(dir, "hello.ts");
  writeFileSync(entry, 'console.log("hello");\n');
  for (const arch of ["x64", "arm64"] as const) {
    const outfile = join(dir, `hello-${arch}`);
    const result = await Bun.build({ entrypoints: [entry], compile: { target: `bun-darwin-${arch}`, outfile } });
    if (!result.success) throw new Error(result.logs.map(String).join("\n"));
    compiled[arch] = await Bun.file(outfile).bytes();
  }
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("ad-hoc signing of a darwin binary built on Linux", () => {
  test("signs Bun's darwin-arm64 output into exactly the bytes Bun's own signer wrote", () => {
    // Bun signs darwin-arm64 output ad hoc, with the linker's identifier; the same signature from
    // build/macho-sign.ts, byte for byte, is one macOS already runs.
    expect(findSignatureProblems(compiled.arm64)).toEqual([]);
    const signed = signMachOAdhoc(compiled.arm64, "a.out");
    expect({ length: signed.byteLength, identical: Buffer.from(signed).equals(Buffer.from(compiled.arm64)) }).toEqual({ length: compiled.arm64.byteLength, identical: true });
  });

  test("gives Bun's darwin-x64 output a signature that covers and matches every byte before it", () => {
    const signed = signMachOAdhoc(compiled.x64, "bunker");
    expect(findSignatureProblems(signed)).toEqual([]);
    const layout = readMachOLayout(signed);
    expect({
      cpuType: layout.cpuType,
      signatureEndsFile: layout.signature.dataOffset + layout.signature.dataSize === signed.byteLength,
      linkeditEndsFile: layout.linkedit.fileOffset + layout.linkedit.fileSize === signed.byteLength,
      linkeditMapped: layout.linkedit.vmSize >= layout.linkedit.fileSize,
      identifier: new TextDecoder().decode(signed.subarray(layout.signature.dataOffset + 20 + 88, layout.signature.dataOffset + 20 + 88 + 7)),
    }).toEqual({ cpuType: MACHO_CPU_TYPES.x64, signatureEndsFile: true, linkeditEndsFile: true, linkeditMapped: true, identifier: "bunker\0" });
  });

  test("signing twice gives the same bytes: the signature depends on the file alone", () => {
    const once = signMachOAdhoc(compiled.x64, "bunker");
    expect(Buffer.from(signMachOAdhoc(once, "bunker")).equals(Buffer.from(once))).toBe(true);
  });

  test("a byte changed anywhere before the signature, the load commands included, fails the check", () => {
    const signed = signMachOAdhoc(compiled.x64, "bunker");
    const { signature, linkedit } = readMachOLayout(signed);
    for (const offset of [linkedit.commandOffset + 48, Math.floor(signature.dataOffset / 2), signature.dataOffset - 1]) {
      const changed = signed.slice();
      changed[offset] = changed[offset]! ^ 1;
      expect({ offset, problems: findSignatureProblems(changed) }).toEqual({ offset, problems: [`1 of ${Math.ceil(signature.dataOffset / 4096)} page hashes do not match the file`] });
    }
  });

  test("names a signature that stops short of the file, or has bytes after it", () => {
    const signed = signMachOAdhoc(compiled.x64, "bunker");
    const { signature } = readMachOLayout(signed);
    const longer = new Uint8Array(signed.byteLength + 16);
    longer.set(signed);
    expect(findSignatureProblems(longer)).toEqual([`the signature ends at ${signed.byteLength}, the file at ${longer.byteLength}`]);
    const shortLimit = signed.slice();
    new DataView(shortLimit.buffer).setUint32(signature.dataOffset + 20 + 32, signature.dataOffset - 4096);
    expect(findSignatureProblems(shortLimit)).toContain(`the signature covers ${signature.dataOffset - 4096} bytes, not the ${signature.dataOffset} before it`);
  });

  test("refuses a file that is not a signed Mach-O executable", () => {
    expect(() => signMachOAdhoc(new TextEncoder().encode("#!/bin/sh\n"), "bunker")).toThrow("not a little-endian 64-bit Mach-O file");
    expect(findSignatureProblems(new Uint8Array(64))).toEqual(["not a little-endian 64-bit Mach-O file"]);
  });
});
