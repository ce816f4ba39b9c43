// Escape suite: the server's secrets and the host's files (docs/SECURITY.md, "Escape suite").
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { basename } from "node:path";
import type { TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { TEST_TOKEN } from "../helpers/server-process.ts";
import { SERVER_SECRET, SSH_KEY_SENTINEL, startEscapeFixture, type EscapeFixture } from "./helpers/escape-fixture.ts";
import { perl } from "./helpers/perl-attempts.ts";

describe.skipIf(noBwrap)("escape suite: secrets of the server and the host", () => {
  let fixture: EscapeFixture;
  let client: TestClient;
  let other: TestClient;
  beforeAll(async () => {
    fixture = await startEscapeFixture();
    client = await fixture.connect();
    other = await fixture.connect();
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  test("env prints the clean environment and nothing of the server's", async () => {
    const run = await client.exec({ id: "env", argv: ["env"] });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    const names = run.stdout.trimEnd().split("\n").map((line) => line.slice(0, line.indexOf("=")));
    expect(names.sort()).toEqual(["HOME", "LANG", "PATH", "PWD", "TERM", "TMPDIR"]);
    expect(run.stdout).not.toContain(SERVER_SECRET);
    expect(run.stdout).not.toContain(TEST_TOKEN);
  });

  test("/proc/<server pid>/environ cannot even be named: the server is outside the PID namespace", async () => {
    const path = `/proc/${fixture.server.pid}/environ`;
    const run = await client.exec({ id: "environ", argv: ["cat", path] });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(new RegExp(`^\\S*cat: ${path}: No such file or directory\\n$`));
  });

  test("/proc/<server pid>/cmdline, which holds the token, cannot be named either", async () => {
    const path = `/proc/${fixture.server.pid}/cmdline`;
    const run = await client.exec({ id: "cmdline", argv: ["cat", path] });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(new RegExp(`^\\S*cat: ${path}: No such file or directory\\n$`));
  });

  test("no process the sandbox can see carries the server's secret or token", async () => {
    // The needles travel reversed, so the scanner's own command line does not match them.
    const run = await client.exec({
      id: "scan",
      argv: perl(
        'my @needles = map { scalar reverse } @ARGV; my ($seen, $hits) = (0, 0); for my $f (glob("/proc/[0-9]*/environ"), glob("/proc/[0-9]*/cmdline")) { ' +
          'open(my $h, "<", $f) or next; local $/; my $text = <$h>; $seen++; $hits += grep { index($text, $_) >= 0 } @needles } print "read $seen files, $hits hits\\n"',
        [...SERVER_SECRET].reverse().join(""),
        [...TEST_TOKEN].reverse().join(""),
      ),
    });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    // perl's environ and cmdline, and the reaper's cmdline: a non-dumpable pid 1 keeps its environ to root.
    expect(run.stdout).toBe("read 3 files, 0 hits\n");
  });

  test("the server user's ~/.ssh is not there", async () => {
    const run = await client.exec({ id: "ssh", argv: ["cat", fixture.sshKeyPath] });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).not.toContain(SSH_KEY_SENTINEL);
    expect(run.stderr).toMatch(new RegExp(`^\\S*cat: ${fixture.sshKeyPath}: No such file or directory\\n$`));
  });

  // Depends on run-as: as root inside (uid 0 is the host's root) its owner could read it (see the controls).
  test("/etc/shadow is visible but unreadable: commands run as nobody", async () => {
    const run = await client.exec({ id: "shadow", argv: ["cat", "/etc/shadow"] });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^\S*cat: \/etc\/shadow: Permission denied\n$/);
  });

  test("kernel memory through /dev/core (-> /proc/kcore) is refused", async () => {
    const run = await client.exec({ id: "kcore", argv: ["head", "-c", "16", "/dev/core"] });
    expect(run.exit).toMatchObject({ code: 1, reason: "exited" });
    expect(run.stdout).toBe("");
    // Kernels built without /proc/kcore have nothing to open; elsewhere it is root's, mode 0400.
    const why = existsSync("/proc/kcore") ? "Permission denied" : "No such file or directory";
    expect(run.stderr).toMatch(new RegExp(`^\\S*head: cannot open '/dev/core' for reading: ${why}\\n$`));
  });

  test("/dev holds the minimal devices only: no host disk to read", async () => {
    const run = await client.exec({ id: "dev", argv: ["ls", "-A", "/dev"] });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stdout.trimEnd().split("\n")).toEqual([
      "core", "fd", "full", "null", "ptmx", "pts", "random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero",
    ]);
  });

  test("the workspace root lists no other session's workspace", async () => {
    const run = await client.exec({ id: "root", argv: ["ls", "-A", fixture.workspaceRoot] });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stdout).toBe(`${basename(client.hello.workspace)}\n`);
    expect(run.stdout).not.toContain(basename(other.hello.workspace));
  });

  test("the host's /home, /root, /mnt, /srv and /opt are absent, /run holds the reaper, /var only the way to the workspace", async () => {
    const run = await client.exec({
      id: "dirs",
      cmd: `for d in /home /root /mnt /srv /opt; do test -e $d && echo "$d present"; done; ls -A /run /run/bunker /var /var/tmp ${fixture.hostDir}`,
    });
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stdout).toBe(
      `/run:\nbunker\n\n/run/bunker:\nreap\n\n/var:\ntmp\n\n/var/tmp:\n${basename(fixture.hostDir)}\n\n${fixture.hostDir}:\nworkspaces\n`,
    );
  });
});
