/**
 * enter: a tiny static program that starts bwrap inside the setup namespace (setup-namespace.ts).
 * It joins the user namespace at fd 7 and the mount namespace at fd 8 (with `-n`, the network
 * namespace at fd 11 too), closes them, and executes its arguments: what `nsenter --user --mount --preserve-credentials` did, without nsenter's
 * dynamic loading and locale setup (~0.7 ms per exec measured, enter ~0). Source and contract:
 * reaper/enter-*.S; the machine code is generated into reaper/enter-code.ts.
 */
import { installFile } from "./install-file.ts";
import type { ReaperArch } from "./reaper.ts";
import { ENTER_CODE_ARM64_HEX, ENTER_CODE_X64_HEX } from "./reaper/enter-code.ts";
import { buildStaticElf } from "./static-elf.ts";

const CODE_HEX: Record<ReaperArch, string> = { x64: ENTER_CODE_X64_HEX, arm64: ENTER_CODE_ARM64_HEX };

/** Child fds enter joins: the setup namespace's user namespace, then its mounts. */
export const ENTER_USER_NS_FD = 7;
export const ENTER_MOUNT_NS_FD = 8;
/** Child fd of the session's network namespace (shared-network.ts), which enter joins when given `-n`. */
export const ENTER_NET_NS_FD = 11;
/** enter's flag that it must join the network namespace at ENTER_NET_NS_FD (or fail). */
export const ENTER_JOIN_NETWORK_FLAG = "-n";

/** Builds the static ELF64 executable of enter for one architecture. */
export function buildEnterElf(arch: ReaperArch): Uint8Array {
  return buildStaticElf(Buffer.from(CODE_HEX[arch], "hex"), arch);
}

/** Writes enter for `arch` to `<dir>/enter-<arch>` (mode 0555, see installFile) and returns its path. */
export function installEnter(dir: string, arch: ReaperArch): string {
  return installFile(dir, `enter-${arch}`, buildEnterElf(arch), 0o555);
}
