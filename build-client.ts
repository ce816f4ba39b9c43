#!/usr/bin/env bun
/**
 * Builds the client library's Node entry for Node itself, which cannot load TypeScript:
 *   dist/client/node.mjs        src/client/node.ts bundled as one ES module; `ws` stays an import
 *   dist/client/types/**.d.ts   declarations of src/client/ and src/protocol/
 *   dist/client/package.json    {"type":"module"}, so that TypeScript reads those as ES modules
 * package.json's `exports` send Node (and TypeScript under Node resolution) here; `prepare` runs this,
 * so `npm ci`, `npm pack` and an install from git or from a folder all build it. Bun and bundlers
 * keep the TypeScript sources.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = import.meta.dir;
const OUT = join(ROOT, "dist", "client");
const ENTRIES = [join(ROOT, "src", "client", "node.ts"), join(ROOT, "src", "client", "index.ts")];

/** Bundles the Node entry into dist/client/node.mjs; valibot goes in, `ws` is left for the consumer's install. */
async function bundleNodeEntry(): Promise<void> {
  const result = await Bun.build({
    entrypoints: [ENTRIES[0]!],
    target: "node",
    format: "esm",
    external: ["ws"],
    outdir: OUT,
    naming: "node.mjs",
    throw: false,
  });
  if (!result.success) throw new Error(`bundling src/client/node.ts failed:\n${result.logs.map(String).join("\n")}`);
}

/**
 * Emits declarations with the repository's TypeScript. They keep the sources' `.ts` import
 * specifiers, which TypeScript resolves to the `.d.ts` beside them. Only `URL` comes from a lib
 * beyond ES: DOM's or @types/node's, which a Node project has.
 */
async function emitDeclarations(): Promise<void> {
  const tsc = join(ROOT, "node_modules", ".bin", "tsc");
  const args = ["--ignoreConfig", ...ENTRIES, "--declaration", "--emitDeclarationOnly", "--outDir", join(OUT, "types"), "--rootDir", join(ROOT, "src")];
  const options = ["--target", "esnext", "--module", "preserve", "--moduleResolution", "bundler", "--allowImportingTsExtensions", "--strict", "--skipLibCheck", "--lib", "esnext,dom", "--types", ""];
  const proc = Bun.spawn([tsc, ...args, ...options], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`emitting the client's declarations failed:\n${stdout}${stderr}`);
}

async function main(): Promise<void> {
  const started = performance.now();
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  await Promise.all([bundleNodeEntry(), emitDeclarations()]);
  writeFileSync(join(OUT, "package.json"), `${JSON.stringify({ type: "module" })}\n`);
  console.log(`${relative(ROOT, OUT)}: node.mjs and types/ in ${Math.round(performance.now() - started)} ms`);
}

main().catch((error: unknown) => {
  console.error(`build-client: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
