/**
 * Per-exec cost of bunker's full bwrap policy (seccomp filter, resource limits set by the reaper,
 * run-as nobody, protected paths) against the core policy (namespaces, mounts, reaper only), as
 * median round trips of `echo hi` through runExec, alternating in one run. `bun bench/policy-cost.ts [rounds]`
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildExecEnv } from "../src/exec/exec-env.ts";
import { OutputLog } from "../src/exec/output-log.ts";
import { runExec } from "../src/exec/run-exec.ts";
import { createBwrapBackend } from "../src/sandbox/bwrap.ts";
import { openProtectedPaths, DEFAULT_PROTECTED_PATHS } from "../src/sandbox/protected-paths.ts";
import { installReaper, reaperArchFor } from "../src/sandbox/reaper.ts";
import { DEFAULT_RLIMITS, DEFAULT_TMP_SIZE_BYTES } from "../src/sandbox/rlimits.ts";
import { NOBODY } from "../src/sandbox/run-as.ts";
import { hostSeccompArch } from "../src/sandbox/seccomp/arch.ts";
import { installSeccompFilter } from "../src/sandbox/seccomp/install-filter.ts";
import { readSystemMounts } from "../src/sandbox/system-mounts.ts";
import { closeSync } from "node:fs";

const rounds = Number(process.argv[2] ?? 200);
const runtime = mkdtempSync("/var/tmp/bunker-policy-cost-");
chmodSync(runtime, 0o755);
const workspace = join(runtime, "ws");
mkdirSync(join(workspace, ".git", "hooks"), { recursive: true });
writeFileSync(join(workspace, ".git", "config"), "[core]\n");
const asRoot = process.geteuid?.() === 0;
if (asRoot) chownSync(workspace, NOBODY.uid, NOBODY.gid);
const common = { bwrapPath: Bun.which("bwrap")!, reaperPath: installReaper(runtime, reaperArchFor(process.arch)!), systemMounts: readSystemMounts(), lookUpPrograms: true };
const core = createBwrapBackend(common);
const full = createBwrapBackend({ ...common, seccompFilterPath: installSeccompFilter(runtime, hostSeccompArch()!) });
const corePolicy = { workspace, allowNetwork: false };
const fullPolicy = { workspace, allowNetwork: false, tmpSizeBytes: DEFAULT_TMP_SIZE_BYTES };
const env = buildExecEnv({ home: workspace, tempDir: "/tmp", requested: undefined });

async function once(isFull: boolean): Promise<number> {
  const started = performance.now();
  const logs = { stdout: new OutputLog(1 << 20), stderr: new OutputLog(1 << 20) };
  const protectedPaths = isFull ? openProtectedPaths(workspace, DEFAULT_PROTECTED_PATHS) : [];
  const running = runExec(
    {
      id: "x",
      argv: ["echo", "hi"],
      cwd: workspace,
      env,
      stdin: false,
      timeoutMs: 0,
      maxOutputBytes: Infinity,
      ...(isFull && { rlimits: DEFAULT_RLIMITS, protectedPaths, ...(asRoot && { runAs: NOBODY }) }),
    },
    isFull ? full : core,
    isFull ? fullPolicy : corePolicy,
    logs,
  );
  for (const opened of protectedPaths) closeSync(opened.fd);
  await running.finished;
  return performance.now() - started;
}

const samples = { core: [] as number[], full: [] as number[] };
for (let i = 0; i < 10; i++) await once(i % 2 === 0);
for (let i = 0; i < rounds; i++) {
  samples.core.push(await once(false));
  samples.full.push(await once(true));
}
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const [coreMs, fullMs] = [median(samples.core), median(samples.full)];
console.log(`| policy | echo hi, median of ${rounds} (alternating) |\n| --- | --- |`);
console.log(`| core (namespaces, mounts, reaper) | ${coreMs.toFixed(2)} ms |`);
console.log(`| full (+ seccomp, rlimits by the reaper, run-as ${asRoot ? "65534" : "self"}, protected paths, /tmp cap) | ${fullMs.toFixed(2)} ms (${fullMs - coreMs >= 0 ? "+" : ""}${(fullMs - coreMs).toFixed(2)} ms) |`);
rmSync(runtime, { recursive: true, force: true });
