// docs/CLIENT.md copies CLIENT_ERROR_CODES into its error table: one row per code, the same sentence.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLIENT_ERROR_CODES } from "../../src/client/index.ts";
import { REPO_ROOT } from "../helpers/server-process.ts";

test("CLIENT.md's table of the client's error codes is CLIENT_ERROR_CODES, code for code and word for word", () => {
  const text = readFileSync(join(REPO_ROOT, "docs", "CLIENT.md"), "utf8");
  const section = text.slice(text.indexOf("### Errors"), text.indexOf("### What the client checks"));
  const rows = [...section.matchAll(/^\| `([a-z_]+)` \| (.+) \|$/gm)].map((match) => [match[1], match[2]]);
  expect(Object.fromEntries(rows)).toEqual(CLIENT_ERROR_CODES);
});
