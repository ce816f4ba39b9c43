/**
 * Audit of issue 2: the server looks a bare argv[0] up on the exec's PATH itself (bwrap), on its
 * event loop. A request's PATH may be up to 128 KiB: each entry cost a stat, so `:` repeated made
 * one exec block every session for about 0.6 s; and whole lookups over system paths were remembered
 * keyed by the whole PATH, so 2000 execs with long, distinct PATHs held 350 MiB more of the
 * server's memory (up to 4096 of them, ~700 MiB). Neither uses up an exec slot: the lookup fails
 * before anything runs.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { useSharedServer } from "../helpers/shared-server.ts";

/** Under the kernel's 128 KiB for one NAME=VALUE string, as the protocol requires. */
const LONGEST_PATH_CHARS = 120 * 1024;

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) / 1024;
}

describe.skipIf(noBwrap)("PATH lookups of requests with absurd PATHs", () => {
  const shared = useSharedServer({ args: ["--sandbox", "bwrap"] });

  test("a PATH of one entry repeated thousands of times is looked up in milliseconds, and still finds the program", async () => {
    const { client } = shared;
    const repeated = ":".repeat(LONGEST_PATH_CHARS);
    const sentAt = performance.now();
    for (let index = 0; index < 8; index++) client.send({ type: "exec", id: `colons-${index}`, argv: ["absent-program"], env: { PATH: repeated } });
    for (let index = 0; index < 8; index++) {
      const run = await client.runToExit(`colons-${index}`);
      expect(run.errors.map((error) => error.code)).toEqual(["spawn_failed"]);
    }
    // The lookups run on the event loop: this is how long every other session waited. Each of the
    // 8 took ~600 ms before; all of them take a few milliseconds now.
    expect(performance.now() - sentAt).toBeLessThan(1000);
    const found = await client.exec({ id: "found-after-repeats", argv: ["echo", "ok"], env: { PATH: `${repeated}:/usr/bin` } });
    expect(found.stdout).toBe("ok\n");
    expect(found.exit).toMatchObject({ code: 0, reason: "exited" });
  });

  test("long, distinct PATHs of system directories are not remembered whole: the server's memory stays flat", async () => {
    const { server, client } = shared;
    const before = rssMiB(server.pid);
    const count = 1500;
    // Every entry a system path (so the whole lookup counted as one to remember), every PATH new.
    const filler = Array.from({ length: 100 }, (_, index) => `/usr/lib/${"q".repeat(1150)}${index}`).join(":");
    for (let index = 0; index < count; index++) {
      client.send({ type: "exec", id: `long-${index}`, argv: ["absent-program"], env: { PATH: `/usr/bin/${index}:${filler}` } });
    }
    const last = await client.runToExit(`long-${count - 1}`);
    expect(last.errors.map((error) => error.code)).toEqual(["spawn_failed"]);
    // 1500 remembered keys of ~115 KiB each held ~240 MiB before.
    expect(rssMiB(server.pid) - before).toBeLessThan(128);
  });
});
