import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { parseServeArgs } from "../../src/cli/serve-args.ts";
import { connect } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { BUN, REPO_ROOT, startServer } from "../helpers/server-process.ts";
import { EMULATED_SETTINGS, EMULATED_STATE_DIRECTORY, EMULATED_UID, EMULATION_SCRIPT } from "./emulated-hardening.ts";
import { lastValue, parseUnitFile } from "./systemd-unit.ts";

const UNIT_PATH = join(REPO_ROOT, "deploy", "bunker.service");
const UNIT_TEXT = readFileSync(UNIT_PATH, "utf8");
const unit = parseUnitFile(UNIT_TEXT);
const service = unit.get("Service");
const INSTALLED_BINARY = "/usr/local/bin/bunker";

const systemdAnalyze = Bun.which("systemd-analyze", { PATH: `${process.env["PATH"] ?? ""}:/usr/bin:/bin` });
if (!systemdAnalyze) console.warn("skipping systemd-analyze checks of deploy/bunker.service: systemd-analyze is not installed");

const emulationMissing =
  process.platform !== "linux"
    ? "not Linux"
    : process.getuid?.() !== 0
      ? "needs root (unshare --mount and setpriv)"
      : !Bun.which("unshare") || !Bun.which("setpriv")
        ? "unshare or setpriv is missing (util-linux)"
        : noBwrap
          ? "bwrap does not work here"
          : undefined;
if (emulationMissing) console.warn(`skipping the emulated hardening of deploy/bunker.service: ${emulationMissing}`);

/** ExecStart as argv (the unit's command line has no quoting). */
function execStartArgv(): string[] {
  const line = lastValue(service, "ExecStart") ?? "";
  return line.split(/\s+/).filter((word) => word !== "");
}

/** Every system call the unit's SystemCallFilter= lines deny, expanded by systemd-analyze. */
async function deniedSyscalls(): Promise<Set<string>> {
  const lines = service?.get("SystemCallFilter") ?? [];
  const denied = new Set<string>();
  for (const line of lines) {
    // A line without "~" would be an allow-list; the unit test below refuses those.
    const names = line.replace(/^~/, "").split(/\s+/).filter((name) => name !== "");
    const groups = names.filter((name) => name.startsWith("@"));
    for (const name of names.filter((name) => !name.startsWith("@"))) denied.add(name);
    if (groups.length === 0) continue;
    const expanded = await execa(systemdAnalyze!, ["syscall-filter", ...groups]);
    for (const word of expanded.stdout.split("\n")) {
      const trimmed = word.trim();
      if (/^[a-z0-9_]+$/.test(trimmed)) denied.add(trimmed);
    }
  }
  return denied;
}

describe("deploy/bunker.service", () => {
  test.skipIf(!systemdAnalyze)("passes systemd-analyze verify without a single warning", async () => {
    // verify insists that ExecStart's binary exists: point a copy of the unit at a stand-in.
    const dir = mkdtempSync(join(tmpdir(), "bunker-unit-"));
    try {
      const standIn = join(dir, "bunker");
      writeFileSync(standIn, "#!/bin/sh\n");
      chmodSync(standIn, 0o755);
      expect(UNIT_TEXT).toContain(`ExecStart=${INSTALLED_BINARY} `);
      writeFileSync(join(dir, "bunker.service"), UNIT_TEXT.replace(`ExecStart=${INSTALLED_BINARY} `, `ExecStart=${standIn} `));
      const result = await execa(systemdAnalyze!, ["verify", join(dir, "bunker.service")], { reject: false });
      expect({ exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("takes the token from an EnvironmentFile and never from its command line", () => {
    const environmentFiles = service?.get("EnvironmentFile") ?? [];
    expect(environmentFiles).toEqual(["/etc/bunker/bunker.env"]);
    expect(execStartArgv().some((word) => word.includes("token"))).toBe(false);
    expect((service?.get("Environment") ?? []).some((value) => value.includes("BUNKER_TOKEN"))).toBe(false);
  });

  test("starts bunker serve with flags that bunker accepts: loopback only, sandbox required, workspaces in its state directory", () => {
    const [binary, command, ...args] = execStartArgv();
    expect({ binary, command }).toEqual({ binary: INSTALLED_BINARY, command: "serve" });
    const settings = parseServeArgs(args, { BUNKER_TOKEN: "a-token-from-the-environment-file" });
    if (settings === "help") throw new Error("ExecStart asks for help");
    expect({
      host: settings.host,
      port: settings.port,
      requireSandbox: settings.requireSandbox,
      workspaceRoot: settings.workspaceRoot,
      token: settings.token,
    }).toEqual({
      host: "127.0.0.1",
      port: 7681,
      requireSandbox: true,
      workspaceRoot: `/var/lib/${lastValue(service, "StateDirectory")}/workspaces`,
      token: "a-token-from-the-environment-file",
    });
  });

  test("stops bunker alone with SIGTERM, leaving it time to kill its own sandboxes", () => {
    expect({
      killMode: lastValue(service, "KillMode"),
      killSignal: lastValue(service, "KillSignal") ?? "SIGTERM",
      timeoutStopSec: lastValue(service, "TimeoutStopSec"),
    }).toEqual({ killMode: "mixed", killSignal: "SIGTERM", timeoutStopSec: "15s" });
  });

  test("sets none of the hardening options that break bwrap", () => {
    const breaking: Record<string, (value: string) => boolean> = {
      // Forbids creating the namespaces that are the sandbox.
      RestrictNamespaces: (value) => value !== "no" && value !== "",
      // Over-mount /proc/sys or /proc/kmsg: the kernel then refuses bwrap's new /proc.
      ProtectKernelTunables: (value) => value === "yes",
      ProtectKernelLogs: (value) => value === "yes",
      // Hides /proc/sys/kernel/overflowuid, which bwrap reads.
      ProcSubset: (value) => value === "pid",
      // Its seccomp filter denies sethostname, which bwrap calls for --hostname.
      ProtectHostname: (value) => value === "yes",
      // Breaks Bun's JIT, and that of every sandboxed command.
      MemoryDenyWriteExecute: (value) => value === "yes",
      PrivateNetwork: (value) => value === "yes",
    };
    const set = Object.entries(breaking)
      .filter(([key, breaks]) => {
        const value = lastValue(service, key);
        return value !== undefined && breaks(value);
      })
      .map(([key]) => `${key}=${lastValue(service, key)}`);
    expect(set).toEqual([]);
  });

  test("lets bwrap open the socket families it uses, and filters system calls by deny-list only", () => {
    const families = (lastValue(service, "RestrictAddressFamilies") ?? "").split(/\s+/);
    // AF_NETLINK: bwrap brings up the loopback of each new network namespace over rtnetlink.
    expect(families).toEqual(expect.arrayContaining(["AF_UNIX", "AF_NETLINK"]));
    expect((service?.get("SystemCallFilter") ?? []).every((line) => line.startsWith("~"))).toBe(true);
  });

  test.skipIf(!systemdAnalyze)("denies no system call that bwrap or bunker needs", async () => {
    const denied = await deniedSyscalls();
    // What bwrap calls to build the sandbox (strace of bwrap --unshare-all), and what bunker needs around it.
    const needed = ["clone", "clone3", "unshare", "setns", "mount", "umount2", "pivot_root", "sethostname", "capset", "prctl", "seccomp", "socket", "ppoll", "signalfd4", "wait4", "execve", "pidfd_open"];
    expect(needed.filter((name) => denied.has(name))).toEqual([]);
  });

  test.skipIf(emulationMissing !== undefined)(
    "runs an exec inside bwrap under the unit's file-system, user and capability hardening (emulated with unshare and setpriv)",
    async () => {
      for (const [key, value] of Object.entries(EMULATED_SETTINGS)) expect(`${key}=${lastValue(service, key)}`).toBe(`${key}=${value}`);
      await using server = await startServer({
        command: ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", EMULATION_SCRIPT, "sh", BUN, join(REPO_ROOT, "src", "main.ts")],
        workspaceRoot: `${EMULATED_STATE_DIRECTORY}/workspaces`,
        args: ["--sandbox", "bwrap", "--require-sandbox"],
        env: { BUNKER_TEST_REPO: REPO_ROOT },
      });
      await using client = await connect(server);
      expect(client.hello.sandbox.backend).toBe("bwrap");
      const run = await client.exec({ id: "inside", argv: ["sh", "-c", "id -u; grep -E '^(CapBnd|NoNewPrivs):' /proc/self/status; touch written && echo workspace-writable"] });
      expect(run.errors).toEqual([]);
      expect(run.stdout).toBe(`${EMULATED_UID}\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\nworkspace-writable\n`);
      expect(run.exit).toEqual({ type: "exit", id: "inside", code: 0, signal: null, reason: "exited", durationMs: expect.any(Number) });
    },
    30_000,
  );
});
