import { execa } from "execa";

/**
 * The commit a build is stamped with (`bunker --version`): the checkout's short commit, with
 * `-dirty` when tracked files differ from it, as `git describe --dirty` marks it, so that a binary
 * built from uncommitted changes never passes for the commit's own. Untracked files do not count.
 * "unknown" outside git (a source tarball, say).
 */
export async function resolveBuildCommit(cwd: string): Promise<string> {
  const head = await execa("git", ["rev-parse", "--short", "HEAD"], { cwd, reject: false });
  if (head.exitCode !== 0) return "unknown";
  // Refreshed first: a file only touched (same content, new mtime) is not a change.
  await execa("git", ["update-index", "-q", "--refresh"], { cwd, reject: false });
  const changed = await execa("git", ["diff-index", "--quiet", "HEAD", "--"], { cwd, reject: false });
  return changed.exitCode === 0 ? head.stdout.trim() : `${head.stdout.trim()}-dirty`;
}
