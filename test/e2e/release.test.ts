import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import packageJson from "../../package.json" with { type: "json" };
import { MACHO_CPU_TYPES } from "../../build/macho-layout.ts";
import { resolveBuildCommit } from "../../build/build-commit.ts";
import { findSignatureProblems } from "../../build/macho-verify.ts";
import { BUN, REPO_ROOT } from "../helpers/server-process.ts";

/** What `npm run build:all` leaves in dist/: the release set that docs/INSTALL.md names. */
const DIST = join(REPO_ROOT, "dist");
const RELEASE_FILES = ["bunker-linux-x64", "bunker-linux-arm64", "bunker-darwin-x64", "bunker-darwin-arm64"] as const;
const ELF_MACHINES = { x64: 62, arm64: 183 } as const;
/** Debian's qemu-user and libc6-arm64-cross, to run the linux-arm64 binary on an x86_64 machine. */
const QEMU_AARCH64 = Bun.which("qemu-aarch64");
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const noArm64Runner =
  process.platform === "linux" && process.arch === "arm64"
    ? undefined
    : QEMU_AARCH64 && existsSync(join(ARM64_SYSROOT, "lib", "ld-linux-aarch64.so.1"))
      ? undefined
      : "neither an arm64 machine nor qemu-aarch64 with libc6-arm64-cross";
if (noArm64Runner) console.warn(`skipping the run of bunker-linux-arm64: ${noArm64Runner}`);

let commit = "";

beforeAll(async () => {
  // Cross-compiling fetches the other platforms' Bun runtimes from the npm registry once, then Bun's cache.
  await execa(BUN, ["build.ts", "--all"], { cwd: REPO_ROOT, timeout: 290_000 });
  commit = await resolveBuildCommit(REPO_ROOT);
}, 300_000);

/** The platform and CPU a binary's header says it is for. */
function targetOf(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) === 0x7f454c46 && bytes[4] === 2) {
    const machine = view.getUint16(18, true);
    return `linux-${Object.entries(ELF_MACHINES).find(([, value]) => value === machine)?.[0] ?? `machine ${machine}`}`;
  }
  if (view.getUint32(0, true) === 0xfeedfacf) {
    const cpu = view.getUint32(4, true);
    return `darwin-${Object.entries(MACHO_CPU_TYPES).find(([, value]) => value === cpu)?.[0] ?? `cpu ${cpu}`}`;
  }
  return "unknown";
}

describe("npm run build:all (bun build.ts --all)", () => {
  test("builds the four release binaries, each for the platform and CPU its name says", () => {
    const targets = RELEASE_FILES.map((name) => ({ name, target: targetOf(readFileSync(join(DIST, name)).subarray(0, 64)) }));
    expect(targets).toEqual(RELEASE_FILES.map((name) => ({ name, target: name.replace("bunker-", "") })));
  });

  test("writes SHA256SUMS with one line per binary that sha256sum -c accepts", async () => {
    const lines = readFileSync(join(DIST, "SHA256SUMS"), "utf8").trimEnd().split("\n");
    expect(lines.map((line) => line.replace(/^[0-9a-f]{64} {2}/, "<sha256>  "))).toEqual(RELEASE_FILES.map((name) => `<sha256>  ${name}`));
    for (const line of lines) {
      const [hex, name] = line.split("  ") as [string, string];
      expect({ name, hex: new Bun.CryptoHasher("sha256").update(readFileSync(join(DIST, name))).digest("hex") }).toEqual({ name, hex });
    }
    const check = await execa("sha256sum", ["-c", "SHA256SUMS"], { cwd: DIST, reject: false });
    expect({ exitCode: check.exitCode, stdout: check.stdout }).toEqual({ exitCode: 0, stdout: RELEASE_FILES.map((name) => `${name}: OK`).join("\n") });
  });

  test("signs both darwin binaries with a signature that matches every byte (a Mac kills one that does not)", () => {
    for (const name of ["bunker-darwin-x64", "bunker-darwin-arm64"]) {
      expect({ name, problems: findSignatureProblems(readFileSync(join(DIST, name))) }).toEqual({ name, problems: [] });
    }
  });

  test("minifies: no comment and no long name of the source is left in a binary", () => {
    const source = readFileSync(join(REPO_ROOT, "src", "main.ts"), "utf8");
    const leftovers = ["The only place that calls process.exit", "runServe"];
    expect(leftovers.filter((text) => !source.includes(text))).toEqual([]);
    const binary = readFileSync(join(DIST, "bunker-linux-x64"));
    expect(leftovers.filter((text) => binary.includes(text))).toEqual([]);
  });

  test.skipIf(process.platform !== "linux" || process.arch !== "x64")("bunker-linux-x64 --version prints the version and the commit it was built from", async () => {
    const result = await execa(join(DIST, "bunker-linux-x64"), ["--version"], { reject: false });
    expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({ exitCode: 0, stdout: `bunker ${packageJson.version} (${commit})` });
  });

  test.skipIf(process.platform !== "linux" || noArm64Runner !== undefined)("bunker-linux-arm64 --version prints the same, run on arm64 or under qemu-user", async () => {
    const binary = join(DIST, "bunker-linux-arm64");
    const command = process.arch === "arm64" ? [binary] : [QEMU_AARCH64!, "-L", ARM64_SYSROOT, binary];
    const result = await execa(command[0]!, [...command.slice(1), "--version"], { reject: false, timeout: 60_000 });
    expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({ exitCode: 0, stdout: `bunker ${packageJson.version} (${commit})` });
  }, 90_000);

  // Last: it builds the set again over the first one. Anyone can check a release against its commit
  // (INSTALL.md); a timestamp or a random value in a build would make that impossible.
  test("builds the same bytes again: SHA256SUMS does not change", async () => {
    const first = readFileSync(join(DIST, "SHA256SUMS"), "utf8");
    await execa(BUN, ["build.ts", "--all"], { cwd: REPO_ROOT, timeout: 120_000 });
    expect(readFileSync(join(DIST, "SHA256SUMS"), "utf8")).toBe(first);
  }, 150_000);
});
