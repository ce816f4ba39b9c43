// Audit: the compiled binary answered HEAD for the page and its files with `Content-Length: 0`,
// where GET sends thousands of bytes (a HEAD's length must be the GET body's, RFC 9110 9.3.2).
// Run from source, Bun serves the page itself and got it right; the binary's own routes did not.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { BUN, REPO_ROOT, startServer } from "../helpers/server-process.ts";

let dir = "";
let binary = "";

beforeAll(async () => {
  await execa(BUN, ["build.ts"], { cwd: REPO_ROOT, timeout: 60_000 });
  dir = mkdtempSync(join(tmpdir(), "bunker-audit-head-"));
  binary = join(dir, "bunker");
  copyFileSync(join(REPO_ROOT, "dist", "bunker"), binary);
}, 90_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the compiled binary's page routes", () => {
  test("HEAD gives the Content-Length of the body GET sends, for the page and each of its files", async () => {
    await using server = await startServer({ command: [binary] });
    const base = `http://127.0.0.1:${server.port}/`;
    const html = await (await fetch(base)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\.\/[^"]+\.(?:js|css))"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const path of ["./", ...assets]) {
      const got = await fetch(new URL(path, base));
      const bytes = (await got.arrayBuffer()).byteLength;
      const head = await fetch(new URL(path, base), { method: "HEAD" });
      expect({ path, status: head.status, length: head.headers.get("content-length") }).toEqual({ path, status: 200, length: String(bytes) });
    }
  });
});
