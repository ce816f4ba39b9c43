import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { resolveBuildCommit } from "../../build/build-commit.ts";

let dir = "";

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function git(...args: string[]): Promise<string> {
  return (await execa("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: dir })).stdout.trim();
}

/** A repository with one commit of one file. */
async function repository(): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), "bunker-build-commit-"));
  await git("init", "-q");
  writeFileSync(join(dir, "tracked.txt"), "one\n");
  await git("add", "tracked.txt");
  await git("commit", "-q", "-m", "one");
  return git("rev-parse", "--short", "HEAD");
}

test("a clean checkout is stamped with its short commit; untracked files and a touched file do not count", async () => {
  const short = await repository();
  writeFileSync(join(dir, "untracked.txt"), "stray\n");
  // Same content, a new mtime: git's index still thinks it may differ until refreshed.
  utimesSync(join(dir, "tracked.txt"), new Date(), new Date(Date.now() + 5000));
  expect(await resolveBuildCommit(dir)).toBe(short);
});

test("a changed tracked file marks the commit -dirty, staged or not", async () => {
  const short = await repository();
  writeFileSync(join(dir, "tracked.txt"), "two\n");
  expect(await resolveBuildCommit(dir)).toBe(`${short}-dirty`);
  await git("add", "tracked.txt");
  expect(await resolveBuildCommit(dir)).toBe(`${short}-dirty`);
});

test("outside git the commit is unknown", async () => {
  dir = mkdtempSync(join(tmpdir(), "bunker-build-commit-"));
  expect(await resolveBuildCommit(dir)).toBe("unknown");
});
