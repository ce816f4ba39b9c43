/**
 * The seatbelt (SBPL) profile every macOS exec runs under.
 *
 * The text depends on nothing but the options below: `allowNetwork` and how many paths each list
 * holds. Every path reaches the profile only as a `(param "NAME")` given to sandbox-exec as a `-D`
 * argument: the workspace as WORKSPACE, the --allow-read paths as ALLOW_READ_0, ALLOW_READ_1, ...,
 * the --allow-write paths as ALLOW_WRITE_0, ..., the protected paths as PROTECT_0, ..., the denied
 * paths as DENY_READ_0, ..., and for a read-only exec its private temp dir as TEMP_DIR (the path
 * lists' rules are in seatbelt-path-rules.ts).
 * A path therefore never becomes profile source, and no quoting bug can turn one into a rule.
 *
 * SBPL evaluates rules in order and the last match wins, so the carve-outs (a deny inside an
 * allowed tree) come after the allow they narrow, and the denials that must always hold come last.
 */
import { allowReadGroups, allowWriteGroups, denyReadGroups, protectGroups, type RuleGroup } from "./seatbelt-path-rules.ts";

/** The policy knobs the profile text depends on; paths are deliberately not among them, only their counts. */
export interface SeatbeltProfileOptions {
  /** Whether commands may use the network (IP sockets and DNS). */
  allowNetwork: boolean;
  /** How many extra host paths commands may read: parameters ALLOW_READ_0 and on. Empty (0) when left out. */
  allowReadCount?: number;
  /** How many extra host paths commands may write: parameters ALLOW_WRITE_0 and on. Empty (0) when left out. */
  allowWriteCount?: number;
  /** How many host paths commands may not read (--deny-read, the server's secrets): DENY_READ_0 and on. */
  denyReadCount?: number;
  /** How many protected paths inside the workspace: parameters PROTECT_0 and on. Empty (0) when left out. */
  protectCount?: number;
  /**
   * One exec's `readOnly`: the workspace and the --allow-write paths may only be read; the private
   * temp dir inside the workspace, parameter TEMP_DIR, stays writable. Default false.
   */
  readOnly?: boolean;
}

const BASE_GROUPS: RuleGroup[] = [
  {
    why: "Closed by default: files, mach services, IOKit, sysctls and the network all need a rule below.",
    rules: ["(deny default)"],
  },
  {
    why: "Commands run other commands; children inherit this profile and cannot leave it.",
    rules: ["(allow process-exec)", "(allow process-fork)"],
  },
  {
    why: "Signal and inspect only processes of this sandbox, never the server or the user's other programs.",
    rules: ["(allow signal (target same-sandbox))", "(allow process-info* (target same-sandbox))"],
  },
  {
    why: "Hardware and OS facts libc and runtimes read at start (after Chromium's list); no kern.proc.all, so no listing of processes.",
    rules: [
      "(allow sysctl-read",
      '  (sysctl-name-prefix "hw.")',
      '  (sysctl-name-prefix "machdep.cpu.")',
      '  (sysctl-name "machdep.ptrauth_enabled")',
      '  (sysctl-name "kern.argmax")',
      '  (sysctl-name "kern.boottime")',
      '  (sysctl-name "kern.hostname")',
      '  (sysctl-name "kern.maxfiles")',
      '  (sysctl-name "kern.maxfilesperproc")',
      '  (sysctl-name "kern.maxproc")',
      '  (sysctl-name "kern.ngroups")',
      '  (sysctl-name "kern.osproductversion")',
      '  (sysctl-name "kern.osrelease")',
      '  (sysctl-name "kern.ostype")',
      '  (sysctl-name "kern.osvariant_status")',
      '  (sysctl-name "kern.osversion")',
      '  (sysctl-name "kern.secure_kernel")',
      '  (sysctl-name "kern.usrstack64")',
      '  (sysctl-name "kern.version")',
      '  (sysctl-name-prefix "kern.proc.pgrp.")',
      '  (sysctl-name-prefix "kern.proc.pid.")',
      '  (sysctl-name "security.mac.lockdown_mode_state")',
      '  (sysctl-name "sysctl.proc_cputype")',
      '  (sysctl-name "sysctl.proc_translated")',
      '  (sysctl-name "vm.loadavg"))',
    ],
  },
  {
    why: "The few mach services plain Unix tools use; pasteboard, keychain, preferences and window server stay denied.",
    rules: [
      "(allow mach-lookup",
      "  ; user and group names: id, whoami, ls -l, ~ expansion",
      '  (global-name "com.apple.system.opendirectoryd.libinfo")',
      "  ; group membership: getgrouplist, id",
      '  (global-name "com.apple.system.opendirectoryd.membership")',
      "  ; notify(3): libc invalidates caches such as the time zone through notifyd",
      '  (global-name "com.apple.system.notification_center")',
      "  ; os_log and syslog: a denial only drops the line, but logs a violation for every process",
      '  (global-name "com.apple.logd")',
      '  (global-name "com.apple.system.logger"))',
    ],
  },
  {
    why: 'Path resolution: stat "/" and the symlinks /etc, /tmp and /var that lead into /private.',
    rules: ['(allow file-read-metadata (literal "/") (literal "/etc") (literal "/tmp") (literal "/var"))'],
  },
  {
    why: "The system, read-only: programs, libraries, frameworks. /Library is the root one; a user's ~/Library is not under it.",
    rules: [
      "(allow file-read*",
      '  (subpath "/usr")',
      '  (subpath "/bin")',
      '  (subpath "/sbin")',
      '  (subpath "/System")',
      '  (subpath "/Library"))',
      '(allow file-map-executable (subpath "/usr") (subpath "/System") (subpath "/Library"))',
    ],
  },
  {
    why: "Homebrew on Intel keeps databases, logs and caches in /usr/local/var: user data, not system.",
    rules: ['(deny file-read* file-map-executable (subpath "/usr/local/var"))'],
  },
  {
    why: "/System/Volumes/Data is a second path to every user's files: deny it, keep the cryptexes dyld loads from.",
    rules: [
      '(deny file-read* file-map-executable (subpath "/System/Volumes"))',
      '(allow file-read-metadata (literal "/System/Volumes") (literal "/System/Volumes/Preboot"))',
      '(allow file-read* file-map-executable (subpath "/System/Volumes/Preboot/Cryptexes"))',
    ],
  },
  {
    why: "System settings: /etc, time zones, /bin/sh's choice of shell, the dyld cache of older macOS, the developer-tools link.",
    rules: [
      "(allow file-read*",
      '  (subpath "/private/etc")',
      '  (subpath "/private/var/db/timezone")',
      '  (literal "/private/var/select/sh")',
      '  (subpath "/private/var/db/dyld")',
      '  (literal "/private/var/db/xcode_select_link"))',
    ],
  },
  {
    why: "Device basics: discard and zero, randomness, and the command's own descriptors (/dev/stdin is /dev/fd/0).",
    rules: [
      '(allow file-read-metadata (literal "/dev") (literal "/dev/stdin") (literal "/dev/stdout") (literal "/dev/stderr"))',
      '(allow file-read* file-write-data (literal "/dev/null") (literal "/dev/zero"))',
      '(allow file-read* (literal "/dev/random") (literal "/dev/urandom"))',
      '(allow file-read* file-write-data (subpath "/dev/fd"))',
    ],
  },
  {
    why: "/dev/tty is only the exec's own terminal (each exec starts a new session); ioctl needs a descriptor already held.",
    rules: [
      '(allow file-read* file-write-data file-ioctl (literal "/dev/tty"))',
      '(allow file-ioctl (regex #"^/dev/ttys[0-9]+$"))',
    ],
  },
];

const WORKSPACE_ANCESTORS_GROUP: RuleGroup = {
  why: "realpath and getcwd stat each parent of the workspace: metadata only, no listing, no contents.",
  rules: ['(allow file-read-metadata (path-ancestors (param "WORKSPACE")))'],
};

const WORKSPACE_WRITABLE_GROUPS: RuleGroup[] = [
  {
    why: "The session workspace, which holds the private temp dir (<workspace>/.tmp): writable, and code built there can be loaded.",
    rules: ['(allow file-read* file-write* (subpath (param "WORKSPACE")))', '(allow file-map-executable (subpath (param "WORKSPACE")))'],
  },
];

const WORKSPACE_READ_ONLY_GROUPS: RuleGroup[] = [
  {
    why: "A read-only exec: the session workspace may be read and its code loaded, never written.",
    rules: ['(allow file-read* file-map-executable (subpath (param "WORKSPACE")))'],
  },
  {
    why: "Its private temp dir (<workspace>/.tmp) alone stays writable, as /tmp does under bwrap.",
    rules: ['(allow file-read* file-write* (subpath (param "TEMP_DIR")))'],
  },
];

const NETWORK_DENIED_GROUPS: RuleGroup[] = [
  {
    why: "No network: no IP, and no Unix sockets either (ssh-agent, Docker, mDNSResponder), so DNS fails too.",
    rules: ["(deny network*)"],
  },
];

const NETWORK_ALLOWED_GROUPS: RuleGroup[] = [
  {
    why: "IP only: a bare network-outbound would also reach every Unix socket on the host (Docker, ssh-agent).",
    rules: [
      '(allow network-outbound (remote ip "*:*"))',
      '(allow network-inbound (local ip "*:*"))',
      '(allow network-bind (local ip "*:*"))',
      "(allow system-socket)",
    ],
  },
  {
    why: "DNS: the resolver asks mDNSResponder over its socket and reads its configuration; TLS asks trustd.",
    rules: [
      '(allow network-outbound (remote unix-socket (path-literal "/private/var/run/mDNSResponder")))',
      '(allow file-read* (literal "/private/var/run/resolv.conf"))',
      "(allow mach-lookup",
      '  (global-name "com.apple.SystemConfiguration.DNSConfiguration")',
      '  (global-name "com.apple.trustd.agent"))',
    ],
  },
];

const FINAL_DENIAL_GROUPS: RuleGroup[] = [
  {
    why: "Last, so nothing above can undo it: no Launch Services (open) and no Apple Events (osascript) to other apps.",
    rules: [
      "(deny mach-lookup",
      '  (global-name "com.apple.coreservices.launchservicesd")',
      '  (global-name-regex #"^com\\.apple\\.lsd\\.")',
      '  (global-name "com.apple.coreservices.appleevents"))',
      "(deny appleevent-send)",
    ],
  },
];

function renderGroup(group: RuleGroup): string {
  return [`; ${group.why}`, ...group.rules].join("\n");
}

function checkCount(name: string, count: number | undefined): number {
  if (count === undefined) return 0;
  if (!Number.isSafeInteger(count) || count < 0) throw new TypeError(`${name} must be a whole number, got ${String(count)}`);
  return count;
}

/** Builds the SBPL profile text; pure, and the same for every workspace and every set of paths of the same sizes. */
export function buildSeatbeltProfile(options: SeatbeltProfileOptions): string {
  const groups = [
    ...BASE_GROUPS,
    ...(options.readOnly === true ? WORKSPACE_READ_ONLY_GROUPS : WORKSPACE_WRITABLE_GROUPS),
    WORKSPACE_ANCESTORS_GROUP,
    ...allowReadGroups(checkCount("allowReadCount", options.allowReadCount)),
    ...allowWriteGroups(checkCount("allowWriteCount", options.allowWriteCount), options.readOnly === true),
    ...(options.allowNetwork ? NETWORK_ALLOWED_GROUPS : NETWORK_DENIED_GROUPS),
    ...protectGroups(checkCount("protectCount", options.protectCount)),
    ...denyReadGroups(checkCount("denyReadCount", options.denyReadCount)),
    ...FINAL_DENIAL_GROUPS,
  ];
  return ["(version 1)", ...groups.map(renderGroup)].join("\n\n") + "\n";
}
