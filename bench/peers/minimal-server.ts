/**
 * The floor under the binary's start and idle memory: the least a compiled Bun WebSocket server is.
 * bench/binary-start.ts compiles it as bunker is compiled and starts it the same way; it ignores
 * its arguments and prints the line the benchmark waits for.
 *
 * With BENCH_PROBE (JSON: argv, env, cwd, runAs) it first runs that command and waits for it, as
 * bunker's default start runs its bwrap probe before it listens: the floor of a server that proves
 * its sandbox first.
 */
/** Listens and prints the line the benchmark waits for. */
function listen(): void {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request, server) => (server.upgrade(request) ? undefined : new Response("ok\n")),
    websocket: { message() {} },
  });
  // Bun's own stderr writer, as bunker's (src/server/log-stderr.ts): process.stderr, a Node stream,
  // measured ~15 ms of a compiled binary's start and ~7 MiB of its idle RSS, which is not Bun's floor.
  const stderr = Bun.stderr.writer();
  stderr.write(`minimal server listening on ws://127.0.0.1:${server.port}/\n`);
  stderr.flush();
}

const probe = process.env["BENCH_PROBE"];
if (probe === undefined) {
  listen();
} else {
  const spec = JSON.parse(probe) as { argv: string[]; env: Record<string, string>; cwd: string; runAs?: { uid: number; gid: number } };
  const proc = Bun.spawn(spec.argv, { env: spec.env, cwd: spec.cwd, stdio: ["ignore", "ignore", "ignore"], ...(spec.runAs && { uid: spec.runAs.uid, gid: spec.runAs.gid }) });
  // Not a top-level await: the floor compiles as bunker does, to bytecode, which has none.
  void proc.exited.then((code) => {
    if (code !== 0) throw new Error(`the probe exited with ${code}`);
    listen();
  });
}
export {};
