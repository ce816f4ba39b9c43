/**
 * The programs the escape suite runs inside the sandbox, as argv arrays. They are perl one-liners:
 * perl-base is on every machine we test on (python3 and gcc are not), its `syscall` builtin makes raw
 * syscalls, and its Socket, IO::Socket::IP, IO::Socket::UNIX and POSIX modules are in perl-base too.
 * Each prints one line that names the outcome (`connected ...`, `ok ...`, or the errno's text), so a
 * test can assert the exact line.
 */
import { hostSeccompArch, type SeccompArch } from "../../../src/sandbox/seccomp/arch.ts";
import { syscallNumberOn, type SyscallName } from "../../../src/sandbox/seccomp/syscall-numbers.ts";

/** A perl one-liner as argv: the script, then its @ARGV. */
export function perl(script: string, ...args: string[]): string[] {
  return ["perl", "-e", script, ...args];
}

const arch: SeccompArch = hostSeccompArch() ?? "x86_64";

/** Syscalls the attempts make that no seccomp rule names, so SYSCALL_NUMBERS lacks them. */
const OTHER_SYSCALL_NUMBERS = {
  x86_64: { sethostname: 170, chroot: 161 },
  aarch64: { sethostname: 161, chroot: 51 },
} as const satisfies Record<SeccompArch, Record<string, number>>;
type OtherSyscallName = keyof (typeof OTHER_SYSCALL_NUMBERS)["x86_64"];

/** The host architecture's number of a syscall. */
export function syscallNumber(name: SyscallName | OtherSyscallName): number {
  return name in OTHER_SYSCALL_NUMBERS[arch]
    ? OTHER_SYSCALL_NUMBERS[arch][name as OtherSyscallName]
    : syscallNumberOn(arch, name as SyscallName)!;
}

/**
 * One raw syscall; prints `ok <return value>` or the errno's text (`Operation not permitted`).
 * Whole-number arguments go as integers, any other string as a pointer to its bytes (NUL-terminated).
 */
export function rawSyscall(name: SyscallName | OtherSyscallName, ...args: (number | string)[]): string[] {
  return perl(
    'my ($n, @a) = @ARGV; @a = map { /^-?\\d+$/ ? $_ + 0 : $_ } @a; my $r = syscall($n + 0, @a); print $r == -1 ? "$!\\n" : "ok $r\\n"',
    String(syscallNumber(name)),
    ...args.map(String),
  );
}

/**
 * Connects over TCP (v4 or v6), sends `request` if given, and prints `connected: ` and the first line
 * the peer sends, or the errno.
 */
export function connectTcp(host: string, port: number, request = ""): string[] {
  return perl(
    'use IO::Socket::IP; my $s = IO::Socket::IP->new(PeerHost => $ARGV[0], PeerPort => $ARGV[1], Timeout => 5) or do { print "$!\\n"; exit 1 }; ' +
      'print $s $ARGV[2]; print "connected: ", scalar(<$s>)',
    host,
    String(port),
    request,
  );
}

/** Connects to a unix socket (a leading `@` names an abstract one) and prints what it sends, or the errno. */
export function connectUnix(path: string): string[] {
  return perl(
    'use IO::Socket::UNIX; my $p = $ARGV[0]; $p =~ s/^@/\\0/; my $s = IO::Socket::UNIX->new(Peer => $p) or do { print "$!\\n"; exit 1 }; print "connected: ", scalar(<$s>)',
    path,
  );
}

/** Prints `<pid> <comm>` for every process in /proc, by pid; skips one that ends meanwhile. No single quote inside. */
export const LIST_PROCESSES_SCRIPT =
  'for my $d (sort { $a <=> $b } map { m{^/proc/(\\d+)$} ? $1 : () } glob("/proc/[0-9]*")) { open(my $c, "<", "/proc/$d/comm") or next; print "$d ", scalar <$c> }';

/** Forks children that sleep until `max` exist or a fork fails; prints `<forked> <errno>` or `<max> no limit`. */
export function forkUntilRefused(max: number): string[] {
  return perl(
    'my $n = 0; while ($n < $ARGV[0]) { my $p = fork; if (!defined $p) { print "$n $!\\n"; exit 0 } if ($p == 0) { sleep 100; exit 0 } $n++ } print "$n no limit\\n"',
    String(max),
  );
}

/** Opens /dev/null until `max` more fds are open or an open fails; prints `<opened> <errno>` or `<max> no limit`. */
export function openUntilRefused(max: number): string[] {
  return perl(
    'my @f; while (@f < $ARGV[0]) { open(my $f, "<", "/dev/null") or do { print scalar(@f), " $!\\n"; exit 0 }; push @f, $f } print scalar(@f), " no limit\\n"',
    String(max),
  );
}

/** Builds a string of `bytes` bytes at run time (no constant folding) and prints its length. */
export function allocate(bytes: number): string[] {
  return perl('my $x = "x" x $ARGV[0]; print length($x), "\\n"', String(bytes));
}

/**
 * Opens /proc/1/mem (the reaper's memory) for writing and writes the first 4 bytes of its code back
 * over themselves: a write that changes nothing, but one that proves the command could patch pid 1.
 */
export const WRITE_REAPER_MEMORY = perl(
  'open(my $maps, "<", "/proc/1/maps") or die "maps: $!\\n"; my ($code) = map { /^([0-9a-f]+)-\\S+ r-xp/ ? hex($1) : () } <$maps>; ' +
    'open(my $mem, "+<", "/proc/1/mem") or do { print "open: $!\\n"; exit 1 }; sysseek($mem, $code, 0); sysread($mem, my $bytes, 4) == 4 or die "read: $!\\n"; ' +
    'sysseek($mem, $code, 0); my $n = syswrite($mem, $bytes); print defined $n ? "wrote $n bytes into pid 1\\n" : "write: $!\\n"',
);

/**
 * x86_64 only: overwrites the reaper's code right after the syscall it sleeps in (the pc in
 * /proc/1/syscall) with `push 2; write(4, rsp, 8); exit_group(0)`, so that when it wakes it reports
 * the record {kind 2 (wait status), value 0} to the server: "exited 0", whatever the command did.
 * Prints `patched pid 1` or why it could not, then exits with `exitCode` either way.
 */
export function forgeExitThroughReaperMemory(exitCode: number): string[] {
  return perl(
    'my $exit = $ARGV[0]; open(my $s, "<", "/proc/1/syscall") or do { print "syscall: $!\\n"; exit $exit }; my @f = split " ", scalar <$s>; ' +
      "my $code = pack(\"C*\", 0x6a, 2, 0xbf, 4, 0, 0, 0, 0x48, 0x89, 0xe6, 0xba, 8, 0, 0, 0, 0xb8, 1, 0, 0, 0, 0x0f, 0x05, 0x31, 0xff, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05); " +
      'open(my $m, "+<", "/proc/1/mem") or do { print "open: $!\\n"; exit $exit }; sysseek($m, hex($f[-1]), 0); ' +
      'print syswrite($m, $code) == length($code) ? "patched pid 1\\n" : "write: $!\\n"; exit $exit',
    String(exitCode),
  );
}

/** ioctl(fd, TIOCSTI, "x"): pushes one byte into the terminal's input; prints `ok 0` or the errno. */
export function injectKeystroke(fd: number): string[] {
  return perl('my $c = "x"; my $r = syscall($ARGV[0] + 0, $ARGV[1] + 0, 0x5412, $c); print $r == -1 ? "$!\\n" : "ok $r\\n"', String(syscallNumber("ioctl")), String(fd));
}

/**
 * A daemon by the book: fork, setsid, fork again, ignore every catchable signal, then exec
 * `sleep <seconds>` (ignored signals stay ignored across exec). Prints `daemonized` once detached;
 * the first process waits for that, so the exec ends only after the daemon exists.
 */
export function daemonize(seconds: number): string[] {
  return perl(
    'use POSIX (); defined(my $p = fork) or die; if ($p) { waitpid($p, 0); exit 0 } POSIX::setsid(); defined($p = fork) or die; if ($p) { print "daemonized\\n"; exit 0 } ' +
      '$SIG{$_} = "IGNORE" for grep { !/^(KILL|STOP|__WARN__|__DIE__)$/ } keys %SIG; close STDOUT; close STDERR; exec "sleep", $ARGV[0]',
    String(seconds),
  );
}
