import { symlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { REPO_ROOT } from "./server-process.ts";

/**
 * Bundles the client's Node entry (and any other modules of src/client named) into `dir` as
 * `<name>.mjs`, the way build-client.ts builds it for Node 20: ESM with `ws` left external. `ws`
 * then resolves from `dir`, as from a project that installed the package.
 */
export async function bundleNodeClient(dir: string, modules: readonly string[] = ["node.ts"]): Promise<void> {
  const built = await Bun.build({
    entrypoints: modules.map((module) => join(REPO_ROOT, "src", "client", module)),
    target: "node",
    format: "esm",
    external: ["ws"],
    outdir: dir,
    naming: "[name].mjs",
  });
  if (!built.success) throw new Error(`bundling ${modules.map((module) => basename(module)).join(", ")} failed:\n${built.logs.join("\n")}`);
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
}
