import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { openAnonymousFile } from "../exec/anonymous-file.ts";
import { closePipe, openBlockingPipe } from "../exec/os-pipe.ts";
import { libc } from "../common/libc.ts";
import { placeStdio, type StdioSlot } from "../exec/stdio-slots.ts";
import { ENTER_USER_NS_FD } from "./enter.ts";
import { installFile } from "./install-file.ts";
import type { ReaperArch } from "./reaper.ts";
import { NETNS_CODE_ARM64_HEX, NETNS_CODE_X64_HEX } from "./reaper/netns-code.ts";
import type { RunAs } from "./run-as.ts";
import type { SetupNamespace } from "./setup-namespace.ts";
import { buildStaticElf } from "./static-elf.ts";
import { readWrittenText } from "./written-text.ts";

/**
 * The network namespace a session's bwrap commands share: one loopback for all of them, so that a
 * server one command runs is reached on 127.0.0.1 by the next (as in a container or an E2B
 * sandbox), where each command had a namespace of its own. It is not the host's network and not
 * another session's. Joining one instead of making one saves each exec ~1 ms (bwrap's
 * --unshare-net: a namespace made, its loopback set up over netlink, and torn down again).
 *
 * Made by netns (reaper/netns-*.S), a static program of a few hundred bytes that joins the setup
 * user namespace (setup-namespace.ts), so that the namespace is owned by it: enter, in that user
 * namespace, can join it; the sandboxes, in user namespaces of their own below it, get no
 * capability over it (no `ip link`, no sysctl). A setup namespace made again (the keeper) cannot
 * join the namespaces made under the old one: `setup` says which one a namespace belongs to.
 */
export interface SharedNetwork {
  /** The namespace, open (/proc/<pid>/ns/net of its maker). */
  readonly fd: number;
  /** The setup namespace it was made in, the only one whose enter can join it. */
  readonly setup: SetupNamespace;
  /** Whether the setup namespace was made again since: then it can no longer be joined. */
  stale(): boolean;
  close(): void;
}

/**
 * What a probe runs in a session's network namespace (detect.ts, the doctor): it prints the
 * namespace it is in, which must be namespaceLinkOf(the namespace). bwrap's --share-net keeps
 * whatever enter joined, so only this tells that enter joined it. As small a program as true.
 */
export const NETWORK_PROBE_ARGV: readonly string[] = ["/bin/readlink", "/proc/self/ns/net"];

/** How readlink names `network` (`net:[<inode>]`). */
export function namespaceLinkOf(network: SharedNetwork): string {
  return `net:[${fstatSync(network.fd).ino}]`;
}

const CODE_HEX: Record<ReaperArch, string> = { x64: NETNS_CODE_X64_HEX, arm64: NETNS_CODE_ARM64_HEX };

/** netns joins the setup namespace's user namespace from the fd enter does (fixed in both programs). */
const NETNS_USER_NS_FD = ENTER_USER_NS_FD;

/** Writes netns for `arch` to `<dir>/netns-<arch>` (mode 0555, see installFile) and returns its path. */
export function installNetnsMaker(dir: string, arch: ReaperArch): string {
  return installFile(dir, `netns-${arch}`, buildStaticElf(Buffer.from(CODE_HEX[arch], "hex"), arch), 0o555);
}

/**
 * Makes a network namespace in `setup`, on the spot: netns is spawned, and this waits (blocking, as
 * a spawn does; ~1 ms here, most of it the kernel making the namespace) until it says the namespace
 * exists, opens it through /proc while netns holds it, checks that it is the one netns made (its
 * inode), and lets netns go. Throws with netns's own message when it could not be made. For a
 * session that found no spare (network-supply.ts).
 */
export function openSharedNetwork(makerPath: string, setup: SetupNamespace, runAs: RunAs | undefined, currentSetup: () => SetupNamespace): SharedNetwork {
  const ready = openBlockingPipe();
  const hold = openBlockingPipe();
  if (!ready || !hold) {
    if (ready) closePipe(ready);
    if (hold) closePipe(hold);
    throw new Error("no pipe for netns");
  }
  const stderrFd = openAnonymousFile(new Uint8Array());
  let proc: import("bun").Subprocess;
  try {
    proc = spawnMaker(makerPath, setup, runAs, [hold.read, ready.write, stderrFd]);
  } catch (error) {
    closePipe(ready);
    closePipe(hold);
    closeSync(stderrFd);
    throw error;
  }
  // The child holds its own ends: our read sees the end of file if it exits without a word.
  closeSync(hold.read);
  closeSync(ready.write);
  try {
    const inode = new Uint8Array(INODE_BYTES);
    let got = 0;
    while (got < inode.byteLength) {
      // The event loop waits meanwhile: a netns stopped by someone must not hold the server.
      if (!libc()!.waitReadable(ready.read, MAKE_TIMEOUT_MS)) throw new Error(`netns: no answer within ${MAKE_TIMEOUT_MS} ms`);
      const read = readSync(ready.read, inode, got, inode.byteLength - got, null);
      if (read === 0) throw new Error(`netns: ${readWrittenText(stderrFd) || "it ended without making the namespace"}`);
      got += read;
    }
    return adoptNamespace(proc.pid, inode, setup, currentSetup);
  } catch (error) {
    proc.kill("SIGKILL");
    throw error;
  } finally {
    // netns waits on stdin for as long as it is open.
    closeSync(hold.write);
    closeSync(ready.read);
    closeSync(stderrFd);
  }
}

/**
 * As openSharedNetwork, without blocking: resolves once netns has made the namespace and it is
 * open. For the spare made ahead of the next session (network-supply.ts).
 */
export async function makeSharedNetwork(makerPath: string, setup: SetupNamespace, runAs: RunAs | undefined, currentSetup: () => SetupNamespace): Promise<SharedNetwork> {
  const stderrFd = openAnonymousFile(new Uint8Array());
  let proc: import("bun").Subprocess<"pipe", "pipe", number>;
  try {
    proc = spawnMaker(makerPath, setup, runAs, ["pipe", "pipe", stderrFd]) as import("bun").Subprocess<"pipe", "pipe", number>;
  } catch (error) {
    closeSync(stderrFd);
    throw error;
  }
  const reader = proc.stdout.getReader();
  try {
    const inode = new Uint8Array(INODE_BYTES);
    let got = 0;
    while (got < inode.byteLength) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`netns: ${readWrittenText(stderrFd) || "it ended without making the namespace"}`);
      const taken = value.subarray(0, inode.byteLength - got);
      inode.set(taken, got);
      got += taken.byteLength;
    }
    return adoptNamespace(proc.pid, inode, setup, currentSetup);
  } catch (error) {
    proc.kill("SIGKILL");
    throw error;
  } finally {
    // netns waits on stdin for as long as it is open; its stdout then ends unread.
    await proc.stdin.end();
    reader.cancel().catch(() => {});
    closeSync(stderrFd);
  }
}

/** netns writes the namespace's inode as 8 bytes, in the machine's order. */
const INODE_BYTES = 8;

/** How long the server waits on the spot for netns (~1 ms as a rule). */
const MAKE_TIMEOUT_MS = 1000;
/** How long netns may live at all, whoever waits for it. */
const MAKER_LIFETIME_MS = 10_000;

function spawnMaker(makerPath: string, setup: SetupNamespace, runAs: RunAs | undefined, stdio: StdioSlot[]): import("bun").Subprocess {
  placeStdio(stdio, NETNS_USER_NS_FD, setup.userFd);
  return Bun.spawn([makerPath], {
    stdio: stdio as ["pipe" | number, "pipe" | number, number, ...("ignore" | number)[]],
    env: {},
    // netns lives a millisecond or two; one stuck (stopped by someone) ends here, and the wait
    // for it with it: the background spare's has no timeout of its own.
    timeout: MAKER_LIFETIME_MS,
    ...(runAs && { uid: runAs.uid, gid: runAs.gid }),
  });
}

/** Opens the namespace of netns `pid`, which is waiting, and checks that it is the one netns said (`inode`). */
function adoptNamespace(pid: number, inode: Uint8Array, setup: SetupNamespace, currentSetup: () => SetupNamespace): SharedNetwork {
  const fd = openSync(`/proc/${pid}/ns/net`, "r");
  if (fstatSync(fd, { bigint: true }).ino !== new BigUint64Array(inode.slice().buffer)[0]) {
    closeSync(fd);
    throw new Error("netns: its process was gone before its namespace was opened");
  }
  let closed = false;
  return {
    fd,
    setup,
    stale() {
      try {
        return currentSetup() !== setup;
      } catch {
        // Being made again (setup-namespace-keeper.ts): this one is stale already.
        return true;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}
