/**
 * The floor under the binary's start and idle memory: the least a compiled Bun WebSocket server is.
 * bench/binary-start.ts compiles it as bunker is compiled and starts it the same way; it ignores
 * its arguments and prints the line the benchmark waits for.
 */
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
export {};
