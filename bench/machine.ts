/** What the figures were measured on: the machine, the tools, the date and the commit. */
import { readFileSync } from "node:fs";
import { availableParallelism, release, totalmem } from "node:os";
import { execa } from "execa";
import { REPO_ROOT } from "../test/helpers/server-process.ts";

function firstMatch(file: string, pattern: RegExp): string | undefined {
  try {
    return pattern.exec(readFileSync(file, "utf8"))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/** The first line a command prints, or "not installed". */
async function versionOf(command: string, args: string[]): Promise<string> {
  const result = await execa(command, args, { reject: false, timeout: 5000 });
  const text = `${result.stdout}\n${result.stderr}`.trim().split("\n")[0]?.trim();
  return result.exitCode === 0 && text ? text : "not installed";
}

/** The short commit of the checkout, with a note when the work tree has changes not committed. */
async function describeCommit(): Promise<string> {
  const head = await execa("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, reject: false });
  if (head.exitCode !== 0) return "unknown (not a git checkout)";
  const status = await execa("git", ["status", "--porcelain"], { cwd: REPO_ROOT, reject: false });
  return status.stdout.trim() ? `${head.stdout.trim()} with uncommitted changes in the work tree` : head.stdout.trim();
}

/** Label and value pairs, in the order they are shown. */
export async function describeMachine(): Promise<[string, string][]> {
  return [
    ["date", new Date().toISOString().replace(/\.\d+Z$/, "Z")],
    ["commit", await describeCommit()],
    ["cpu", `${firstMatch("/proc/cpuinfo", /^model name\s*:(.*)$/m) ?? process.arch}, ${availableParallelism()} cores`],
    ["memory", `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`],
    ["os", `${firstMatch("/etc/os-release", /^PRETTY_NAME="?([^"\n]*)"?$/m) ?? process.platform}, kernel ${release()}`],
    ["bun", Bun.version],
    ["bwrap", await versionOf("bwrap", ["--version"])],
    ["websocketd", await versionOf("websocketd", ["--version"])],
    ["node (for the paused client)", await versionOf("node", ["--version"])],
  ];
}
