import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBwrapArgs, REAPER_SANDBOX_PATH } from "../../src/sandbox/bwrap.ts";
import { decodeReaperRecords, describeWaitStatus, installReaper, reaperArchFor, type ReaperArch } from "../../src/sandbox/reaper.ts";
import { hostSeccompArch, type SeccompArch } from "../../src/sandbox/seccomp/arch.ts";
import { buildSeccompFilter } from "../../src/sandbox/seccomp/build-filter.ts";
import { syscallNumberOn, type SyscallName } from "../../src/sandbox/seccomp/syscall-numbers.ts";
import { readSystemMounts } from "../../src/sandbox/system-mounts.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

/**
 * The filter in a real bwrap, with exactly the production flags plus `--seccomp 5`: fd 3 is bwrap's
 * --json-status-fd, fd 4 the reaper's wait-status pipe, fd 5 the filter, as the server will pass it.
 * Every probe also runs without the filter, to show that the filter, not something else, denies it.
 */

const SECCOMP_FD = 5;
const arch = hostSeccompArch();
const skipReason = noBwrap ? "bwrap does not work here" : !arch ? `no seccomp filter for ${process.arch}` : undefined;
if (skipReason) console.warn(`skipping seccomp-in-bwrap tests: ${skipReason}`);
const hostArch = (arch ?? "x86_64") as SeccompArch;

/** Syscalls the probes need that no rule names. */
const OTHER_NUMBERS = { x86_64: { exit_group: 231, getpid: 39 }, aarch64: { exit_group: 94, getpid: 172 } } as const;

let dir = "";
let workspace = "";
let reaperPath = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bunker-seccomp-"));
  workspace = join(dir, "workspace");
  mkdirSync(workspace);
  if (!skipReason) reaperPath = installReaper(dir, reaperArchFor(process.arch) as ReaperArch);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Writes the filter to a temporary file and opens it; the file is unlinked at once, so the fd is the
 * only thing left, closed by the caller once the spawn has its copy.
 */
function openFilterFd(): number {
  const path = join(dir, `filter-${process.pid}-${Math.random().toString(36).slice(2)}.bpf`);
  writeFileSync(path, buildSeccompFilter(hostArch), { flag: "wx", mode: 0o400 });
  try {
    return openSync(path, "r");
  } finally {
    unlinkSync(path);
  }
}

async function readToEnd(fd: number): Promise<Uint8Array> {
  return new Response(Bun.file(fd).stream()).bytes();
}

interface SandboxRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** What the reaper reported: the command's true exit code or signal. */
  wait: { code: number | null; signal: string | null } | undefined;
}

/** Runs `command` in bwrap with the production flags, with or without the filter. */
async function runSandboxed(command: string[], options: { seccomp: boolean; allowNetwork?: boolean }): Promise<SandboxRun> {
  const args = buildBwrapArgs({ bwrapPath: "bwrap", reaperPath, systemMounts: readSystemMounts() }, { workspace, allowNetwork: options.allowNetwork ?? false }, workspace);
  const seccompArgs = options.seccomp ? ["--seccomp", String(SECCOMP_FD)] : [];
  const filterFd = options.seccomp ? openFilterFd() : undefined;
  let proc;
  try {
    proc = Bun.spawn(["bwrap", ...args, ...seccompArgs, "--", REAPER_SANDBOX_PATH, ...command], {
      stdio: ["ignore", "pipe", "pipe", "pipe", "pipe", filterFd ?? "ignore"],
    });
  } finally {
    if (filterFd !== undefined) closeSync(filterFd);
  }
  const [jsonStatusFd, waitStatusFd] = [proc.stdio[3], proc.stdio[4]];
  if (typeof jsonStatusFd !== "number" || typeof waitStatusFd !== "number") throw new Error("fds 3 and 4 are not pipes");
  try {
    const [stdout, stderr, , records, exitCode] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      readToEnd(jsonStatusFd),
      readToEnd(waitStatusFd),
      proc.exited,
    ]);
    const { waitStatus } = decodeReaperRecords(records);
    return { exitCode, stdout, stderr, wait: waitStatus === undefined ? undefined : describeWaitStatus(waitStatus) };
  } finally {
    closeSync(jsonStatusFd);
    closeSync(waitStatusFd);
  }
}

const perl = (script: string, ...args: string[]) => ["/usr/bin/perl", "-e", script, ...args];

/** A syscall probe: a perl expression that is true on success and leaves errno in $! on failure. */
interface Probe {
  name: string;
  perl: string;
  /** The outcome under the filter: "ok" or an errno name. */
  filtered: string;
  /** Whether the call fails differently without the filter on any kernel we run on. */
  decisive: boolean;
}

function sys(name: SyscallName, ...args: (number | string)[]): string {
  return `syscall(${[syscallNumberOn(hostArch, name)!, ...args].join(", ")}) != -1`;
}

const CLONE_NEWUSER = 0x10000000;
const SIGCHLD = 17;
const probes = (): Probe[] => [
  { name: "socket(AF_UNIX)", perl: "socket(my $s, AF_UNIX, SOCK_STREAM, 0)", filtered: "EPERM", decisive: true },
  { name: "socket(AF_VSOCK)", perl: sys("socket", 40, 1, 0), filtered: "EPERM", decisive: true },
  { name: "socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG)", perl: sys("socket", 16, 3, 4), filtered: "EPERM", decisive: true },
  { name: "socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)", perl: sys("socket", 16, 2, 15), filtered: "EPERM", decisive: true },
  { name: "socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC)", perl: sys("socket", 16, 3, 16), filtered: "EPERM", decisive: true },
  // Without the filter NETLINK_AUDIT fails with EPROTONOSUPPORT outside the initial namespaces.
  { name: "socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT)", perl: sys("socket", 16, 3, 9), filtered: "EPERM", decisive: false },
  // A read of the process's LDT: 0 bytes and no error without the filter.
  ...(hostArch === "x86_64" ? [{ name: "modify_ldt(read)", perl: `${sys("modify_ldt", 0, "$buf", 16)}`, filtered: "EPERM", decisive: true }] : []),
  { name: "socketpair(AF_UNIX, SOCK_DGRAM)", perl: "socketpair(my $a, my $b, AF_UNIX, SOCK_DGRAM, 0)", filtered: "EPERM", decisive: true },
  { name: "ptrace(PTRACE_PEEKDATA, no such pid)", perl: sys("ptrace", 2, 999999, 0, 0), filtered: "EPERM", decisive: true },
  { name: "process_vm_readv(no such pid)", perl: sys("process_vm_readv", 999999, 0, 0, 0, 0, 0), filtered: "EPERM", decisive: true },
  { name: "pidfd_getfd(-1)", perl: sys("pidfd_getfd", -1, 0, 0), filtered: "EPERM", decisive: true },
  // io_uring_setup is also EPERM without the filter where kernel.io_uring_disabled is 2.
  { name: "io_uring_setup(1, NULL)", perl: sys("io_uring_setup", 1, 0), filtered: "EPERM", decisive: false },
  { name: "io_uring_enter(-1)", perl: sys("io_uring_enter", -1, 0, 0, 0, 0, 0), filtered: "EPERM", decisive: true },
  { name: "keyctl(unknown operation)", perl: sys("keyctl", 9999, 0, 0), filtered: "EPERM", decisive: true },
  { name: "add_key(NULL)", perl: sys("add_key", 0, 0, 0, 0, 0), filtered: "EPERM", decisive: true },
  { name: "bpf(unknown command)", perl: sys("bpf", 9999, 0, 0), filtered: "EPERM", decisive: true },
  { name: "perf_event_open(NULL)", perl: sys("perf_event_open", 0, 0, -1, -1, 0), filtered: "EPERM", decisive: true },
  { name: "userfaultfd(UFFD_USER_MODE_ONLY)", perl: sys("userfaultfd", 1), filtered: "EPERM", decisive: true },
  { name: "unshare(CLONE_NEWUSER)", perl: `in_child(sub { ${sys("unshare", CLONE_NEWUSER)} })`, filtered: "EPERM", decisive: true },
  { name: "setns(-1)", perl: sys("setns", -1, 0), filtered: "EPERM", decisive: true },
  {
    name: "clone(CLONE_NEWUSER)",
    perl: `do { my $pid = syscall(${syscallNumberOn(hostArch, "clone")}, ${CLONE_NEWUSER | SIGCHLD}, 0, 0, 0, 0); syscall(${OTHER_NUMBERS[hostArch].exit_group}, 0) if $pid == 0; my $e = $! + 0; waitpid($pid, 0) if $pid > 0; $! = $e; $pid > 0 }`,
    filtered: "EPERM",
    decisive: true,
  },
  { name: "clone3(NULL)", perl: sys("clone3", 0, 0), filtered: "ENOSYS", decisive: true },
  { name: "mount(NULL)", perl: sys("mount", 0, 0, 0, 0, 0), filtered: "EPERM", decisive: true },
  { name: "open_by_handle_at(NULL)", perl: sys("open_by_handle_at", -1, 0, 0), filtered: "EPERM", decisive: true },
  { name: "open_tree(NULL)", perl: sys("open_tree", -1, 0, 0), filtered: "EPERM", decisive: true },
  // Without the filter these fail on capabilities (EPERM), or ENOSYS where the kernel lacks modules.
  { name: "finit_module(-1)", perl: sys("finit_module", -1, 0, 0), filtered: "EPERM", decisive: false },
  { name: "reboot(0)", perl: sys("reboot", 0, 0, 0, 0), filtered: "EPERM", decisive: false },
  { name: "ioctl(/dev/null, TIOCSTI)", perl: sys("ioctl", "fileno($null)", 0x5412, "$buf"), filtered: "EPERM", decisive: true },
  { name: "ioctl(/dev/null, TIOCLINUX)", perl: sys("ioctl", "fileno($null)", 0x541c, "$buf"), filtered: "EPERM", decisive: true },
  { name: "ioctl(/dev/null, TIOCSTI | 1 << 32)", perl: sys("ioctl", "fileno($null)", 0x1_0000_5412, "$buf"), filtered: "EPERM", decisive: true },
  // An x32 syscall: ENOSYS here from the filter, and from any kernel built without x32.
  ...(hostArch === "x86_64" ? [{ name: "x32 getpid", perl: `syscall(${0x40000000 | OTHER_NUMBERS.x86_64.getpid}) != -1`, filtered: "ENOSYS", decisive: false }] : []),
  // Allowed:
  { name: "socket(AF_INET)", perl: "socket(my $s, AF_INET, SOCK_STREAM, 0)", filtered: "ok", decisive: false },
  { name: "socket(AF_INET6)", perl: "socket(my $s, AF_INET6, SOCK_DGRAM, 0)", filtered: "ok", decisive: false },
  { name: "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)", perl: sys("socket", 16, 3, 0), filtered: "ok", decisive: false },
  { name: "socketpair(AF_UNIX, SOCK_STREAM)", perl: "socketpair(my $a, my $b, AF_UNIX, SOCK_STREAM, 0)", filtered: "ok", decisive: false },
  { name: "ioctl(/dev/null, TCGETS)", perl: sys("ioctl", "fileno($null)", 0x5401, "$buf"), filtered: "ENOTTY", decisive: false },
  { name: "getpid", perl: `syscall(${OTHER_NUMBERS[hostArch].getpid}) > 0`, filtered: "ok", decisive: false },
  {
    name: "fork",
    perl: "do { my $pid = fork(); POSIX::_exit(0) if defined $pid && $pid == 0; waitpid($pid, 0) if $pid; $? == 0 && defined $pid }",
    filtered: "ok",
    decisive: false,
  },
];

/** One perl program that runs every probe and prints `name<TAB>outcome` lines. */
function probeScript(list: Probe[]): string {
  return [
    "use strict; use warnings; use Errno; use POSIX (); use Socket; $| = 1;",
    'open(my $null, "<", "/dev/null") or die "open: $!"; my $buf = "\\0" x 64;',
    "sub outcome { return 'ok' if $_[0]; my $errno = $! + 0; my ($name) = sort grep { $!{$_} } keys %!; return $name // \"errno $errno\" }",
    "sub in_child { my $pid = fork() // return 0; POSIX::_exit($_[0]->() ? 0 : $! + 0) if !$pid; waitpid($pid, 0); $! = $? >> 8; return $? == 0 }",
    ...list.map((probe) => `{ print ${JSON.stringify(probe.name)}, "\\t", outcome(${probe.perl}), "\\n"; }`),
  ].join("\n");
}

function parseOutcomes(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.trimEnd().split("\n").map((line) => line.split("\t") as [string, string]));
}

describe.skipIf(skipReason !== undefined)(`the seccomp filter in bwrap (${hostArch})`, () => {
  test("decides every probe as the rules say, and only the filter makes the difference", async () => {
    const list = probes();
    const script = probeScript(list);
    const [filtered, unfiltered] = await Promise.all([runSandboxed(perl(script), { seccomp: true }), runSandboxed(perl(script), { seccomp: false })]);
    expect({ exitCode: filtered.exitCode, stderr: filtered.stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(unfiltered.stderr).toBe("");
    expect(parseOutcomes(filtered.stdout)).toEqual(Object.fromEntries(list.map((probe) => [probe.name, probe.filtered])));
    const without = parseOutcomes(unfiltered.stdout);
    const undecided = list.filter((probe) => probe.decisive && without[probe.name] === probe.filtered).map((probe) => probe.name);
    expect(undecided).toEqual([]);
  });

  test("a host unix socket bound inside the workspace answers without the filter and not with it", async () => {
    let connections = 0;
    const socketPath = join(workspace, "host.sock");
    using server = Bun.listen({ unix: socketPath, socket: { open: (socket) => void (connections++, socket.end()), data: () => {} } });
    const script = 'use Socket; socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!\\n"; connect($s, pack_sockaddr_un($ARGV[0])) or die "connect: $!\\n"; print "connected\\n"';
    const unfiltered = await runSandboxed(perl(script, socketPath), { seccomp: false });
    expect([unfiltered.stdout, connections]).toEqual(["connected\n", 1]);
    const filtered = await runSandboxed(perl(script, socketPath), { seccomp: true });
    expect(filtered).toEqual({ exitCode: 1, stdout: "", stderr: "socket: Operation not permitted\n", wait: { code: 1, signal: null } });
    expect(connections).toBe(1);
  });

  test("a host abstract unix socket answers with --share-net without the filter, and not with it", async () => {
    const name = `bunker-seccomp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    using server = Bun.listen({ unix: `\0${name}`, socket: { open: (socket) => void socket.end(), data: () => {} } });
    const script = 'use Socket; socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!\\n"; connect($s, pack_sockaddr_un("\\0$ARGV[0]")) or die "connect: $!\\n"; print "connected\\n"';
    const unfiltered = await runSandboxed(perl(script, name), { seccomp: false, allowNetwork: true });
    expect(unfiltered.stdout).toBe("connected\n");
    const filtered = await runSandboxed(perl(script, name), { seccomp: true, allowNetwork: true });
    expect(filtered.stderr).toBe("socket: Operation not permitted\n");
  });

  test("a datagram socketpair reaches a host datagram socket without the filter, and cannot be made with it", async () => {
    const socketPath = join(workspace, "host-dgram.sock");
    // Bun has no unix datagram sockets: a perl on the host receives one datagram and prints it.
    const receiver = Bun.spawn(perl('use Socket; socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die; bind($s, pack_sockaddr_un($ARGV[0])) or die "bind: $!"; $| = 1; print "ready\\n"; recv($s, my $got, 100, 0); print $got', socketPath), {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const reader = receiver.stdout.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("ready\n");
      const script = 'use Socket; socketpair(my $a, my $b, AF_UNIX, SOCK_DGRAM, 0) or die "socketpair: $!\\n"; send($a, "escaped", 0, pack_sockaddr_un($ARGV[0])) or die "send: $!\\n"; print "sent\\n"';
      const filtered = await runSandboxed(perl(script, socketPath), { seccomp: true });
      expect(filtered.stderr).toBe("socketpair: Operation not permitted\n");
      const unfiltered = await runSandboxed(perl(script, socketPath), { seccomp: false });
      expect(unfiltered.stdout).toBe("sent\n");
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("escaped");
    } finally {
      receiver.kill();
      await receiver.exited;
      rmSync(socketPath, { force: true });
    }
  });

  test("AF_INET still connects to the host with --share-net", async () => {
    let connections = 0;
    using server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: (socket) => void (connections++, socket.end()), data: () => {} } });
    const script = 'use Socket; socket(my $s, AF_INET, SOCK_STREAM, 0) or die "socket: $!\\n"; connect($s, pack_sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or die "connect: $!\\n"; print "connected\\n"';
    const run = await runSandboxed(perl(script, String(server.port)), { seccomp: true, allowNetwork: true });
    expect(run).toEqual({ exitCode: 0, stdout: "connected\n", stderr: "", wait: { code: 0, signal: null } });
    expect(connections).toBe(1);
  });

  test("ordinary commands still run, and the reaper still reports their status", async () => {
    const run = await runSandboxed(["/bin/sh", "-c", "ls / > /dev/null && echo $(echo sub) && (exit 3); echo $?; echo piped | cat; exit 4"], { seccomp: true });
    expect(run).toEqual({ exitCode: 4, stdout: "sub\n3\npiped\n", stderr: "", wait: { code: 4, signal: null } });
  });

  const nodePath = Bun.which("node");
  const nodeVisible = nodePath?.startsWith("/usr/") === true;
  if (!nodeVisible) console.warn(`skipping the threads-in-bwrap test: no node under /usr (${nodePath ?? "none"})`);
  test.skipIf(!nodeVisible)("threads still start: node's worker runs (clone3 is ENOSYS, libc falls back to clone)", async () => {
    const script = "const { Worker } = require('node:worker_threads'); new Worker('process.exit(5)', { eval: true }).on('exit', (code) => console.log('worker exited', code));";
    const run = await runSandboxed([nodePath ?? "node", "-e", script], { seccomp: true });
    expect(run).toEqual({ exitCode: 0, stdout: "worker exited 5\n", stderr: "", wait: { code: 0, signal: null } });
  });

  test.skipIf(hostArch !== "x86_64")("kills a process that makes an i386 syscall (int 0x80) from x86_64", async () => {
    writeFileSync(join(workspace, "int80"), buildInt80Elf(), { mode: 0o755 });
    const unfiltered = await runSandboxed([join(workspace, "int80")], { seccomp: false });
    expect(unfiltered.wait).toEqual({ code: 7, signal: null });
    const filtered = await runSandboxed([join(workspace, "int80")], { seccomp: true });
    expect(filtered.wait).toEqual({ code: null, signal: "SIGSYS" });
  });

  test("leaves no filter file behind", () => {
    expect(readdirSync(dir).sort()).toEqual([`reap-${process.arch}`, "workspace"]);
  });
});

/**
 * A static x86_64 ELF that makes the i386 getpid syscall through int 0x80, then exits 7 through the
 * 64-bit exit syscall: it exits 7 unless the int 0x80 call kills it.
 */
function buildInt80Elf(): Uint8Array {
  const code = [
    0xb8, 0x14, 0x00, 0x00, 0x00, // mov eax, 20 (i386 getpid)
    0xcd, 0x80, // int 0x80
    0xbf, 0x07, 0x00, 0x00, 0x00, // mov edi, 7
    0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
    0x0f, 0x05, // syscall
  ];
  const headers = 64 + 56;
  const elf = new Uint8Array(headers + code.length);
  const view = new DataView(elf.buffer);
  const base = 0x400000n;
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  view.setUint16(16, 2, true); // ET_EXEC
  view.setUint16(18, 62, true); // EM_X86_64
  view.setUint32(20, 1, true);
  view.setBigUint64(24, base + BigInt(headers), true); // entry
  view.setBigUint64(32, 64n, true); // program headers right after the ELF header
  view.setUint16(52, 64, true);
  view.setUint16(54, 56, true);
  view.setUint16(56, 1, true);
  view.setUint32(64, 1, true); // PT_LOAD
  view.setUint32(68, 5, true); // R | X
  view.setBigUint64(80, base, true);
  view.setBigUint64(88, base, true);
  view.setBigUint64(96, BigInt(elf.length), true);
  view.setBigUint64(104, BigInt(elf.length), true);
  view.setBigUint64(112, 0x1000n, true);
  elf.set(code, headers);
  return elf;
}
