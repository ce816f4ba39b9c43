// Runs the client library under Node 20 with the real `ws` package (node's own test runner)
// against a real server: the Node entry is bundled first, since Node 20 cannot load TypeScript.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, startServer } from "../helpers/server-process.ts";

const server = await startServer();
const bundleDir = mkdtempSync(join(tmpdir(), "bunker-client-node-"));
afterAll(async () => {
  await server[Symbol.asyncDispose]();
  rmSync(bundleDir, { recursive: true, force: true });
});

test("the Node entry passes its node:test suite against the server", async () => {
  // `ws` stays an import, resolved from the repository's node_modules as an installed package would be.
  symlinkSync(join(REPO_ROOT, "node_modules"), join(bundleDir, "node_modules"));
  const built = await Bun.build({
    entrypoints: [join(REPO_ROOT, "src", "client", "node.ts")],
    target: "node",
    format: "esm",
    external: ["ws"],
    outdir: bundleDir,
    naming: "client.mjs",
  });
  expect(built.success).toBe(true);

  const node = Bun.spawn(["node", "--test", "--test-reporter=spec", "--test-timeout=30000", join(import.meta.dir, "node", "ws-client.node.mjs")], {
    env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", BUNKER_CLIENT_MODULE: join(bundleDir, "client.mjs"), BUNKER_URL: server.url, BUNKER_TOKEN: server.token! },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([node.exited, new Response(node.stdout).text(), new Response(node.stderr).text()]);
  if (code !== 0) console.error(stdout, stderr);
  expect(stdout).toContain("ℹ fail 0");
  expect(code).toBe(0);
}, 60_000);
