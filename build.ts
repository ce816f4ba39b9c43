#!/usr/bin/env bun
/**
 * Compiles bunker into single-file executables in dist/.
 *   bun build.ts         dist/bunker for this machine, smoke-run with --version
 *   bun build.ts --all   also dist/bunker-{linux,darwin}-{x64,arm64} and dist/SHA256SUMS
 * Cross-compiling fetches the other platforms' Bun runtimes from the npm registry (cached by Bun).
 * The darwin binaries are signed ad hoc here (build/macho-sign.ts), since Bun's darwin-x64 output
 * carries a signature that no longer matches it.
 */
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { execa } from "execa";
import packageJson from "./package.json" with { type: "json" };
import { resolveBuildCommit } from "./build/build-commit.ts";
import { signMachOAdhoc } from "./build/macho-sign.ts";
import { findSignatureProblems } from "./build/macho-verify.ts";

const ROOT = import.meta.dir;
const DIST = join(ROOT, "dist");
/**
 * JavaScriptCore's tier-up thresholds times this until serve listens (it then calls
 * Bun.unsafe.setJITPolicy(1); other commands at once): startup code runs once, and compiling it
 * cost more than it saved. High enough that no startup function tiers up (BUN_JSC_useBaselineJIT=0
 * changes nothing then). Measured: idle RSS 3.8 MiB lower (no JIT compiler code paged in), and
 * ~2 ms less CPU to "listening".
 */
const STARTUP_JIT_POLICY = 100;

/** Release targets of `--all`: the file suffix, Bun's compile target, and the platform it runs on. */
const RELEASE_TARGETS = [
  { name: "linux-x64", target: "bun-linux-x64", runOn: { platform: "linux", arch: "x64" } },
  { name: "linux-arm64", target: "bun-linux-arm64", runOn: { platform: "linux", arch: "arm64" } },
  { name: "darwin-x64", target: "bun-darwin-x64", runOn: { platform: "darwin", arch: "x64" } },
  { name: "darwin-arm64", target: "bun-darwin-arm64", runOn: { platform: "darwin", arch: "arm64" } },
] as const satisfies { name: string; target: Bun.Build.CompileTarget; runOn: { platform: string; arch: string } }[];

/** Compiles src/main.ts into `outfile`; `target` undefined means this machine's runtime (no download). */
async function compileBinary(outfile: string, commit: string, target?: Bun.Build.CompileTarget): Promise<void> {
  const result = await Bun.build({
    entrypoints: [join(ROOT, "src", "main.ts")],
    compile: {
      ...(target ? { target } : {}),
      outfile,
      // A server started in some project directory must not pick up that project's .env or bunfig.toml.
      autoloadDotenv: false,
      autoloadBunfig: false,
      jitPolicy: STARTUP_JIT_POLICY,
    },
    minify: true,
    // Precompiled bytecode: the binary skips parsing its own JavaScript at every start.
    bytecode: true,
    // Each `await import()` becomes a chunk of its own, loaded (with the Node modules it imports)
    // only when reached: `serve` never loads the doctor's execa or the client of exec and shell,
    // and loads the server's own code while the sandbox probe runs (see cli/serve.ts). Measured
    // against one CommonJS bundle (the default): start 2 to 3 ms faster, idle RSS 0.9 MiB lower.
    format: "esm",
    splitting: true,
    define: { BUNKER_BUILD_COMMIT: JSON.stringify(commit) },
    throw: false,
  });
  if (!result.success) {
    throw new Error(`compiling ${relative(ROOT, outfile)} failed:\n${result.logs.map(String).join("\n")}`);
  }
}

/** Debian's libc6-arm64-cross: the loader and libc that Bun's (dynamically linked) arm64 runtime needs. */
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";

/** The command that runs `file` here: directly, under qemu-user for linux-arm64, or undefined. */
function runnerFor(file: string, runOn: { platform: string; arch: string }): string[] | undefined {
  if (runOn.platform !== process.platform) return undefined;
  if (runOn.arch === process.arch) return [file];
  const qemu = runOn.platform === "linux" && runOn.arch === "arm64" ? Bun.which("qemu-aarch64") : null;
  const hasSysroot = existsSync(join(ARM64_SYSROOT, "lib", "ld-linux-aarch64.so.1"));
  return qemu && hasSysroot ? [qemu, "-L", ARM64_SYSROOT, file] : undefined;
}

/** What a darwin binary's signature names it (an ad-hoc signature's identifier means nothing else). */
const SIGNING_IDENTIFIER = "bunker";

/**
 * Replaces a darwin binary's code signature with an ad-hoc one over its final bytes, and fails
 * unless that checks out as macOS checks it: a Mac kills a program whose signature does not match.
 */
async function signDarwinBinary(file: string): Promise<void> {
  const signed = signMachOAdhoc(await Bun.file(file).bytes(), SIGNING_IDENTIFIER);
  const problems = findSignatureProblems(signed);
  if (problems.length > 0) throw new Error(`${relative(ROOT, file)}: the new signature does not verify: ${problems.join("; ")}`);
  // A new file renamed over the old, not the old rewritten: macOS caches a signature per file, and
  // runs a rewritten one against the old signature (and kills it).
  const staged = `${file}.signing`;
  writeFileSync(staged, signed, { mode: 0o755 });
  renameSync(staged, file);
}

/** Runs `<binary> --version` and fails unless it names this version and commit. */
async function smokeRun(command: string[], commit: string): Promise<void> {
  const expected = `bunker ${packageJson.version} (${commit})`;
  const [program, ...args] = command as [string, ...string[]];
  const result = await execa(program, [...args, "--version"], { reject: false, timeout: 30_000 });
  if (result.exitCode !== 0 || result.stdout.trim() !== expected) {
    throw new Error(`${command.join(" ")} --version: expected ${JSON.stringify(expected)}, got exit ${result.exitCode} ${JSON.stringify(result.stdout + result.stderr)}`);
  }
}

function formatSize(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { all: { type: "boolean", default: false } }, strict: true });
  const commit = await resolveBuildCommit(ROOT);
  mkdirSync(DIST, { recursive: true });
  const built: { file: string; ms: number; ran: boolean; signed: boolean }[] = [];

  const build = async (file: string, target: Bun.Build.CompileTarget | undefined, runner: string[] | undefined, platform = process.platform) => {
    const started = performance.now();
    await compileBinary(file, commit, target);
    const signed = platform === "darwin";
    if (signed) await signDarwinBinary(file);
    const ms = performance.now() - started;
    if (runner) await smokeRun(runner, commit);
    built.push({ file, ms, ran: runner !== undefined, signed });
  };

  const host = join(DIST, "bunker");
  await build(host, undefined, [host]);
  if (values.all) {
    for (const { name, target, runOn } of RELEASE_TARGETS) {
      const file = join(DIST, `bunker-${name}`);
      await build(file, target, runnerFor(file, runOn), runOn.platform);
    }
    const sums = await Promise.all(
      built.slice(1).map(async ({ file }) => {
        const hex = new Bun.CryptoHasher("sha256").update(await Bun.file(file).arrayBuffer()).digest("hex");
        return `${hex}  ${basename(file)}\n`;
      }),
    );
    writeFileSync(join(DIST, "SHA256SUMS"), sums.join(""));
  }

  console.log(`bunker ${packageJson.version} (${commit})`);
  for (const { file, ms, ran, signed } of built) {
    const note = [ran ? "--version ok" : "not run here", ...(signed ? ["signed ad hoc"] : [])].join(", ");
    console.log(`  ${relative(ROOT, file).padEnd(26)} ${formatSize(statSync(file).size).padStart(10)}  ${(ms / 1000).toFixed(1)}s  ${note}`);
  }
  if (values.all) console.log(`  ${"dist/SHA256SUMS".padEnd(26)} ${`${statSync(join(DIST, "SHA256SUMS")).size} B`.padStart(10)}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`build: ${message}`);
  process.exit(error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS") ? 2 : 1);
});
