/**
 * The reaper: a tiny static program that bwrap execs as pid 1 of the sandbox's PID namespace
 * (`--as-pid-1`). It forks, execs the command, waits for it and writes the command's true wait
 * status to fd 4, because bwrap reports "killed by signal N" as exit code 128+N, which a real
 * `exit 137` also produces. As pid 1 it reaps every orphan, and its exit ends the whole sandbox:
 * it exits once the command has ended, when the outer bwrap dies (parent-death signal), and when
 * the server's end of fd 4 closes (which also covers a server killed while bwrap was still
 * setting the sandbox up). Source and contract: reaper/reaper-*.S; the machine code is generated
 * into reaper/reaper-code.ts.
 */
import { installFile } from "./install-file.ts";
import { REAPER_CODE_ARM64_HEX, REAPER_CODE_X64_HEX } from "./reaper/reaper-code.ts";

/** The CPU architectures the reaper exists for, named as `process.arch` names them. */
export type ReaperArch = "x64" | "arm64";

/** Maps a `process.arch` value to a reaper architecture, or undefined where there is no reaper. */
export function reaperArchFor(nodeArch: string): ReaperArch | undefined {
  if (nodeArch === "x64" || nodeArch === "arm64") return nodeArch;
  return undefined;
}

const ELF_HEADER_BYTES = 64;
const PROGRAM_HEADER_BYTES = 56;
const PROGRAM_HEADER_COUNT = 2;
const CODE_OFFSET = ELF_HEADER_BYTES + PROGRAM_HEADER_BYTES * PROGRAM_HEADER_COUNT;
/** The classic static-executable base: above vm.mmap_min_addr, aligned to 64 KiB pages. */
const LOAD_ADDRESS = 0x400000n;
/** 64 KiB covers every page size arm64 kernels use (4, 16, 64 KiB) and x86_64's 4 KiB. */
const SEGMENT_ALIGN = 0x10000n;
const ELF_MACHINE: Record<ReaperArch, number> = { x64: 62, arm64: 183 };
const CODE_HEX: Record<ReaperArch, string> = { x64: REAPER_CODE_X64_HEX, arm64: REAPER_CODE_ARM64_HEX };
const PT_LOAD = 1;
const PT_GNU_STACK = 0x6474e551;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;

/** Builds the complete static ELF64 executable of the reaper for one architecture. */
export function buildReaperElf(arch: ReaperArch): Uint8Array {
  const code = Buffer.from(CODE_HEX[arch], "hex");
  const elf = new Uint8Array(CODE_OFFSET + code.length);
  const view = new DataView(elf.buffer);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // magic, ELFCLASS64, little-endian, EV_CURRENT
  view.setUint16(16, 2, true); // ET_EXEC: loaded at LOAD_ADDRESS, no interpreter
  view.setUint16(18, ELF_MACHINE[arch], true);
  view.setUint32(20, 1, true); // EV_CURRENT
  view.setBigUint64(24, LOAD_ADDRESS + BigInt(CODE_OFFSET), true); // entry: right after the headers
  view.setBigUint64(32, BigInt(ELF_HEADER_BYTES), true); // program headers follow the ELF header
  view.setUint16(52, ELF_HEADER_BYTES, true);
  view.setUint16(54, PROGRAM_HEADER_BYTES, true);
  view.setUint16(56, PROGRAM_HEADER_COUNT, true);
  // One segment maps the whole file, headers included, read and execute only.
  writeProgramHeader(view, 0, PT_LOAD, PF_R | PF_X, BigInt(elf.length), SEGMENT_ALIGN);
  // Without PT_GNU_STACK, x86_64 kernels before 5.8 set READ_IMPLIES_EXEC, a personality flag
  // that execve keeps: every readable mapping of the command would become executable.
  writeProgramHeader(view, 1, PT_GNU_STACK, PF_R | PF_W, 0n, 16n);
  elf.set(code, CODE_OFFSET);
  return elf;
}

function writeProgramHeader(view: DataView, index: number, type: number, flags: number, size: bigint, align: bigint): void {
  const at = ELF_HEADER_BYTES + index * PROGRAM_HEADER_BYTES;
  const vaddr = type === PT_LOAD ? LOAD_ADDRESS : 0n;
  view.setUint32(at, type, true);
  view.setUint32(at + 4, flags, true);
  view.setBigUint64(at + 8, 0n, true); // p_offset
  view.setBigUint64(at + 16, vaddr, true);
  view.setBigUint64(at + 24, vaddr, true); // p_paddr
  view.setBigUint64(at + 32, size, true); // p_filesz
  view.setBigUint64(at + 40, size, true); // p_memsz
  view.setBigUint64(at + 48, align, true);
}

/** Writes the reaper for `arch` to `<dir>/reap-<arch>` (mode 0555, see installFile) and returns its path. */
export function installReaper(dir: string, arch: ReaperArch): string {
  return installFile(dir, `reap-${arch}`, buildReaperElf(arch), 0o555);
}

/** Record kind: the command could not be started; the value is the errno. */
const RECORD_EXEC_ERRNO = 1;
/** Record kind: the command ended; the value is its raw wait status. */
const RECORD_WAIT_STATUS = 2;
const RECORD_BYTES = 8;

/**
 * Parses what the reaper wrote to fd 4: 8-byte records (u32 kind, i32 value, little-endian).
 * Never throws; unknown kinds and a trailing partial record are ignored. A failed exec yields both
 * `execErrno` and a `waitStatus` (exit 127); a reaper killed before reporting yields neither.
 */
export function decodeReaperRecords(bytes: Uint8Array): { execErrno?: number; waitStatus?: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const result: { execErrno?: number; waitStatus?: number } = {};
  for (let at = 0; at + RECORD_BYTES <= bytes.byteLength; at += RECORD_BYTES) {
    const kind = view.getUint32(at, true);
    const value = view.getInt32(at + 4, true);
    if (kind === RECORD_EXEC_ERRNO) result.execErrno = value;
    else if (kind === RECORD_WAIT_STATUS) result.waitStatus = value;
  }
  return result;
}

/** Linux signal numbers 1..31 (x86_64 and arm64 share them); index = number. */
const LINUX_SIGNAL_NAMES = [
  "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
  "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
  "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
  "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
] as const;

/** Names a Linux signal number; real-time signals (32..64) have no fixed name and read as "SIG34". */
export function linuxSignalName(signal: number): string {
  return LINUX_SIGNAL_NAMES[signal] || `SIG${signal}`;
}

/**
 * Turns a raw Linux wait status into facts: an exit code, or the name of the signal that killed
 * the command. The reaper only reports termination, never a stopped or continued child.
 */
export function describeWaitStatus(status: number): { code: number | null; signal: string | null } {
  const termSignal = status & 0x7f;
  if (termSignal === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: linuxSignalName(termSignal) };
}
