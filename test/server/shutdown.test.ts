import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { startServer } from "../helpers/server-process.ts";
import { connect } from "../helpers/client.ts";

function descendantsOf(rootPid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // Gone.
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parents) if (parent === pid) found.push(child), walk(child);
  };
  walk(rootPid);
  return found;
}

function isAlive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/\) [ZX] /.test(state);
  } catch {
    return false;
  }
}

test("SIGTERM closes sockets with 1001, kills every tree, exits 0 and leaves nothing running", async () => {
  await using server = await startServer();
  const client = await connect(server);
  client.send({ type: "exec", id: "long", cmd: "sleep 104 & sleep 104" });
  await client.next((m) => m.type === "started");
  const tree = descendantsOf(server.pid);
  expect(tree.length).toBeGreaterThan(0);
  const code = await server.stop();
  expect(code).toBe(0);
  expect((await client.closed).code).toBe(1001);
  expect(tree.filter(isAlive)).toEqual([]);
});

test("a SIGTERM sent the moment the listening line is read still stops the server cleanly (exit 0)", async () => {
  // The handlers are installed before the line goes out: a supervisor that reacts to it at once
  // must not find the signal's default action, which kills the process (exit 143).
  await using server = await startServer({ args: ["--sandbox", "none"] });
  expect(await server.stop()).toBe(0);
});

test("SIGKILL of the server still takes its sandboxes down (bwrap --die-with-parent)", async () => {
  await using server = await startServer();
  const client = await connect(server);
  client.send({ type: "exec", id: "long", cmd: "sleep 105 & sleep 105" });
  await client.next((m) => m.type === "started");
  const tree = descendantsOf(server.pid);
  server.process.kill("SIGKILL");
  await server.process.exited;
  await client.closed;
  // The kernel delivers the parent-death signal as the server dies; give each process its own wait.
  for (const pid of tree) {
    for (let attempt = 0; attempt < 200 && isAlive(pid); attempt++) await Bun.sleep(10);
  }
  expect(tree.filter(isAlive)).toEqual([]);
});
