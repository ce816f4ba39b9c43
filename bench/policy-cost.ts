/**
 * Per-exec cost of bunker's full bwrap policy (seccomp filter, resource limits set by the reaper,
 * run-as nobody, protected paths and the pinned .git, bwrap started in its setup namespace by
 * enter) against the core policy (namespaces, mounts, reaper only), as
 * median round trips of `echo hi`, each policy's exact command spawned bare (lib/sandbox-spawn.ts,
 * the same commands the echo bench uses), alternating in one run. The workspace has a `.git`, so
 * that the protected paths are bound. `bun bench/policy-cost.ts [rounds]`
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NOBODY } from "../src/sandbox/run-as.ts";
import { prepareSandbox, runBareSpawn } from "./lib/sandbox-spawn.ts";

const rounds = Number(process.argv[2] ?? 200);
const runtime = mkdtempSync("/var/tmp/bunker-policy-cost-");
chmodSync(runtime, 0o755);
const workspace = join(runtime, "ws");
mkdirSync(join(workspace, ".git", "hooks"), { recursive: true });
writeFileSync(join(workspace, ".git", "config"), "[core]\n");
const asRoot = process.geteuid?.() === 0;
if (asRoot) chownSync(workspace, NOBODY.uid, NOBODY.gid);
const full = await prepareSandbox("bwrap", runtime, "full", asRoot ? NOBODY : undefined);
const core = await prepareSandbox("bwrap", runtime, "core");
const commands = { full: full.buildCommand(["echo", "hi"], workspace), core: core.buildCommand(["echo", "hi"], workspace) };

async function once(policy: "core" | "full"): Promise<number> {
  const started = performance.now();
  await runBareSpawn(commands[policy], policy === "full" && asRoot ? NOBODY : undefined);
  return performance.now() - started;
}

const samples = { core: [] as number[], full: [] as number[] };
for (let i = 0; i < 10; i++) await once(i % 2 === 0 ? "core" : "full");
for (let i = 0; i < rounds; i++) {
  samples.core.push(await once("core"));
  samples.full.push(await once("full"));
}
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const [coreMs, fullMs] = [median(samples.core), median(samples.full)];
console.log(`| policy | echo hi, median of ${rounds} (alternating) |\n| --- | --- |`);
console.log(`| core (namespaces, mounts, reaper) | ${coreMs.toFixed(2)} ms |`);
console.log(`| full (+ seccomp, rlimits by the reaper, run-as ${asRoot ? "65534" : "self"}, protected paths, /tmp cap, setup namespace) | ${fullMs.toFixed(2)} ms (${fullMs - coreMs >= 0 ? "+" : ""}${(fullMs - coreMs).toFixed(2)} ms) |`);
full.dispose();
core.dispose();
rmSync(runtime, { recursive: true, force: true });
