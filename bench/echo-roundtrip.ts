/**
 * Round-trip of `echo hi` over one persistent connection, beside a bare in-process Bun.spawn of the
 * very same sandbox argv, measured in the same run (the target: at most 0.5 ms above the bare spawn).
 * Run: bun bench/echo-roundtrip.ts [runs]
 */
import { detectSandbox } from "../src/sandbox/detect.ts";
import { buildExecEnv } from "../src/exec/exec-env.ts";
import { buildSpawnStdio } from "../src/exec/run-exec.ts";
import { startServer } from "../test/helpers/server-process.ts";
import { connect } from "../test/helpers/client.ts";
import { printTable, quantile } from "./stats.ts";

const runs = Number(process.argv[2] ?? 200);

async function bareSpawnSamples(backendChoice: "bwrap" | "none", workspace: string): Promise<number[]> {
  const detected = await detectSandbox({ choice: backendChoice, requireSandbox: false, allowNetwork: false, workspaceRoot: workspace });
  if (!detected.ok) throw new Error(detected.reason);
  const { backend } = detected.sandbox;
  const policy = { workspace, allowNetwork: false };
  const env = buildExecEnv({ home: workspace, tempDir: backend.tempDir(policy), requested: undefined });
  const command = backend.buildCommand({ argv: ["echo", "hi"], cwd: workspace, env }, policy);
  const samples: number[] = [];
  for (let i = 0; i < runs + 10; i++) {
    const start = performance.now();
    const proc = Bun.spawn(command.argv, {
      cwd: command.cwd,
      env: command.env,
      stdio: buildSpawnStdio(command, false) as ["ignore", "pipe", "pipe", ...("pipe" | "ignore")[]],
      detached: command.detached,
    });
    await new Response(proc.stdout).text();
    await proc.exited;
    if (i >= 10) samples.push(performance.now() - start);
  }
  detected.sandbox.dispose();
  return samples;
}

async function serverSamples(backendChoice: "bwrap" | "none"): Promise<{ samples: number[]; workspace: string; stop: () => Promise<void> }> {
  const server = await startServer({ args: ["--sandbox", backendChoice] });
  const client = await connect(server);
  const samples: number[] = [];
  for (let i = 0; i < runs + 10; i++) {
    const start = performance.now();
    await client.exec({ id: `e${i}`, argv: ["echo", "hi"] });
    if (i >= 10) samples.push(performance.now() - start);
  }
  return {
    samples,
    workspace: client.hello.workspace,
    stop: async () => {
      await client[Symbol.asyncDispose]();
      await server[Symbol.asyncDispose]();
    },
  };
}

const rows: string[][] = [];
for (const backend of ["bwrap", "none"] as const) {
  const served = await serverSamples(backend);
  const bare = await bareSpawnSamples(backend, served.workspace);
  await served.stop();
  const overhead = quantile(served.samples, 0.5) - quantile(bare, 0.5);
  rows.push([`bunker, ${backend}`, quantile(served.samples, 0.5).toFixed(2), quantile(served.samples, 0.99).toFixed(2), `${overhead.toFixed(2)} ms over bare`, overhead <= 0.5 ? "PASS" : "MISS"]);
  rows.push([`bare Bun.spawn, same argv (${backend})`, quantile(bare, 0.5).toFixed(2), quantile(bare, 0.99).toFixed(2), "", ""]);
}
console.log(`echo hi round-trip, ${runs} runs each, one connection`);
printTable(["what", "p50 ms", "p99 ms", "target: p50 <= bare + 0.5 ms", "result"], rows);
