/**
 * The machine code of the reaper, enter and netns is committed as hex (reaper-code.ts, enter-code.ts, netns-code.ts),
 * generated from the assembly by assemble.sh: this assembles the sources again and compares, so
 * that a change to a .S file cannot land without its code. Needs GNU binutils for both
 * architectures (Debian: binutils, binutils-aarch64-linux-gnu); skipped without them.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";

const SOURCE_DIR = join(import.meta.dir, "..", "..", "src", "sandbox", "reaper");
const assemblers = ["as", "aarch64-linux-gnu-as", "objcopy", "aarch64-linux-gnu-objcopy", "readelf", "aarch64-linux-gnu-readelf"];
const missing = assemblers.filter((tool) => !Bun.which(tool));
if (missing.length > 0) console.warn(`skipping the check of the committed machine code: ${missing.join(", ")} not installed`);

const scratch = mkdtempSync(join(tmpdir(), "bunker-assemble-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(missing.length > 0)("the committed machine code", () => {
  test("is what assemble.sh makes of the assembly, for the reaper, enter and netns", async () => {
    cpSync(SOURCE_DIR, scratch, { recursive: true });
    await execa("bash", [join(scratch, "assemble.sh")]);
    for (const generated of ["reaper-code.ts", "enter-code.ts", "netns-code.ts"]) {
      expect(readFileSync(join(scratch, generated), "utf8")).toBe(readFileSync(join(SOURCE_DIR, generated), "utf8"));
    }
  });
});
