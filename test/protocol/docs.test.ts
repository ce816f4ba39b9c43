import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ERROR_CODES } from "../../src/protocol/index.ts";

const PROTOCOL_MD = readFileSync(join(import.meta.dir, "..", "..", "docs", "PROTOCOL.md"), "utf8");

/** The rows `| \`code\` | text |` of the table under a heading, in order. */
function tableRows(heading: string): [string, string][] {
  const section = PROTOCOL_MD.split(`\n${heading}\n`)[1]?.split("\n### ")[0] ?? "";
  return [...section.matchAll(/^\| `([a-z_]+)` \| (.+?) \|$/gm)].map((match) => [match[1]!, match[2]!]);
}

test("docs/PROTOCOL.md lists every error code with exactly the sentence of ERROR_CODES", () => {
  expect(tableRows("### Error codes")).toEqual(Object.entries(ERROR_CODES));
});
