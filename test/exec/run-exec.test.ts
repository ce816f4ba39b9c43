// How an exec's end is reported when its sandbox is ended from outside, through a real server.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { useSharedServer } from "../helpers/shared-server.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { pollProc } from "../helpers/proc.ts";

interface ProcessFacts {
  pid: number;
  ppid: number;
  /** The kernel's name of the process (its program's file name, cut to 15 bytes). */
  comm: string;
  cmdline: string[];
}

/** Every process now running, as /proc shows it. */
function listProcesses(): ProcessFacts[] {
  const processes: ProcessFacts[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ")".
      const close = stat.lastIndexOf(")");
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").slice(0, -1);
      processes.push({ pid: Number(entry), ppid, comm: stat.slice(stat.indexOf("(") + 1, close), cmdline });
    } catch {
      // The process ended while we looked.
    }
  }
  return processes;
}

/** The sandbox's pid 1 (the reaper, `reap`) that runs `sleep <tag>`, among the server's descendants. */
function findReaper(serverPid: number, tag: string): number | undefined {
  const processes = listProcesses();
  const byPid = new Map(processes.map((process) => [process.pid, process]));
  const descendsFromServer = (pid: number): boolean => {
    for (let at = byPid.get(pid); at; at = byPid.get(at.ppid)) if (at.ppid === serverPid) return true;
    return false;
  };
  const sleeper = processes.find((process) => process.cmdline.at(-1) === tag && process.cmdline[0]?.endsWith("sleep"));
  const reaper = sleeper && byPid.get(sleeper.ppid);
  return reaper?.comm === "reap" && descendsFromServer(reaper.pid) ? reaper.pid : undefined;
}

describe.skipIf(noBwrap)("the exit of a sandbox ended from outside", () => {
  const shared = useSharedServer();

  test("a reaper SIGKILLed from the host is the signal SIGKILL, not a code 137", async () => {
    shared.client.send({ type: "exec", id: "reaped", argv: ["sleep", "4646"] });
    await shared.client.next((m) => m.type === "started" && m.id === "reaped");
    let reaper: number | undefined;
    await pollProc(() => (reaper = findReaper(shared.server.pid, "4646")) !== undefined);
    process.kill(reaper!, "SIGKILL");
    const { exit } = await shared.client.runToExit("reaped");
    expect(exit).toMatchObject({ code: null, signal: "SIGKILL", reason: "signaled" });
  });

  test("a command's own exit 137 stays a code", async () => {
    const { exit } = await shared.client.exec({ id: "own-137", cmd: "exit 137" });
    expect(exit).toMatchObject({ code: 137, signal: null, reason: "exited" });
  });

  test("a SIGKILL the client sent is still reason killed", async () => {
    shared.client.send({ type: "exec", id: "client-kill", argv: ["sleep", "4747"] });
    await shared.client.next((m) => m.type === "started" && m.id === "client-kill");
    shared.client.send({ type: "signal", id: "client-kill", signal: "SIGKILL" });
    const { exit } = await shared.client.runToExit("client-kill");
    expect(exit).toMatchObject({ code: null, signal: "SIGKILL", reason: "killed" });
  });
});
