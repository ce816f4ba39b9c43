import { afterAll, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRuntimeDir, sweepStaleRuntimeDirs } from "../../src/sandbox/runtime-dir.ts";

const root = mkdtempSync(join(tmpdir(), "bunker-runtime-sweep-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A pid that ran and has exited (reuse within the test is not a concern here). */
async function deadPid(): Promise<number> {
  const proc = Bun.spawn(["true"]);
  await proc.exited;
  return proc.pid;
}

function makeDir(name: string, ageMs: number): string {
  const path = join(root, name);
  mkdirSync(path);
  const at = new Date(Date.now() - ageMs);
  utimesSync(path, at, at);
  return path;
}

test("a server's runtime directory carries its pid, is world-readable, and goes with dispose", () => {
  const dir = createRuntimeDir(root);
  expect(dir.path).toMatch(new RegExp(`/bunker-runtime-${process.pid}-[A-Za-z0-9]+$`));
  dir.dispose();
  expect(existsSync(dir.path)).toBe(false);
});

test("the sweep removes only directories of dead servers that nobody touched for five minutes", async () => {
  const dead = await deadPid();
  const hour = 60 * 60 * 1000;
  const stale = makeDir(`bunker-runtime-${dead}-aaaaaa`, hour);
  const fresh = makeDir(`bunker-runtime-${dead}-bbbbbb`, 1000);
  const ours = makeDir(`bunker-runtime-${process.pid}-cccccc`, hour);
  // A live process that is not this one: the test runner's parent shell or init.
  const alive = makeDir(`bunker-runtime-1-dddddd`, hour);
  const other = makeDir("bunker-runtime-legacy", hour);
  // A symlink named like a stale directory, pointing at something of value: never followed.
  const valuable = makeDir("valuable", hour);
  writeFileSync(join(valuable, "keep"), "x");
  const link = join(root, `bunker-runtime-${dead}-eeeeee`);
  symlinkSync(valuable, link);

  expect(sweepStaleRuntimeDirs(root)).toEqual([`bunker-runtime-${dead}-aaaaaa`]);
  expect(existsSync(stale)).toBe(false);
  for (const kept of [fresh, ours, alive, other]) expect(existsSync(kept)).toBe(true);
  expect(lstatSync(link).isSymbolicLink()).toBe(true);
  expect(existsSync(join(valuable, "keep"))).toBe(true);
});

test("the sweep also kills what a killed server's sandboxes left (a process naming its stale directory), and nothing else", async () => {
  const dead = await deadPid();
  const stale = makeDir(`bunker-runtime-${dead}-ffffff`, 60 * 60 * 1000);
  const live = makeDir(`bunker-runtime-${process.pid}-gggggg`, 0);
  // As bwrap's blocked inner half names the reaper it was to run: an argument under the directory.
  const leaked = Bun.spawn(["sh", "-c", "sleep 30", "leaked", `${stale}/reap-x64`]);
  const bystander = Bun.spawn(["sh", "-c", "sleep 30", "bystander", `${live}/reap-x64`]);
  try {
    expect(sweepStaleRuntimeDirs(root)).toEqual([`bunker-runtime-${dead}-ffffff`]);
    expect(await leaked.exited).toBe(137);
    expect(bystander.exitCode).toBeNull();
  } finally {
    leaked.kill("SIGKILL");
    bystander.kill("SIGKILL");
  }
});

// Found by an audit: a root server's sandboxes run as the run-as uid, and the sweep looked only at
// processes of its own uid, so what a killed root server left ran on.
test.skipIf(process.getuid?.() !== 0)("run as root, the sweep also kills a leaked process of another uid that names the stale directory", async () => {
  const dead = await deadPid();
  const stale = makeDir(`bunker-runtime-${dead}-hhhhhh`, 60 * 60 * 1000);
  const leaked = Bun.spawn(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "sh", "-c", "echo ready; sleep 30", "leaked", `${stale}/reap-x64`], { stdout: "pipe" });
  try {
    // Once it speaks it is sh, as 65534 (setpriv itself, still root, would be swept without the fix).
    await leaked.stdout.getReader().read();
    expect(lstatSync(`/proc/${leaked.pid}`).uid).toBe(65534);
    expect(sweepStaleRuntimeDirs(root)).toEqual([`bunker-runtime-${dead}-hhhhhh`]);
    expect(await leaked.exited).toBe(137);
  } finally {
    leaked.kill("SIGKILL");
  }
});
