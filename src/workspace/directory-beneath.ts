import { closeSync, constants, lstatSync, openSync, readlinkSync } from "node:fs";
import { selectPathScheme, type OpenDir } from "../files/platform/index.ts";
import { O_PATH as LINUX_O_PATH } from "../files/platform/linux-proc-fd.ts";
import { MAX_RACE_RETRIES, MAX_SYMLINKS } from "../files/walk.ts";
import { resolveLinkTarget } from "../files/workspace-path.ts";

/** Where a walk beneath the workspace ended: a directory's components, or why there is none. */
export type DirectoryBeneath =
  | { ok: true; components: readonly string[] }
  | { ok: false; reason: "outside" | "missing" | "not_directory" | "too_many_links" };

/**
 * O_PATH on Linux: the walk asks of each directory only what the command's chdir will, search
 * permission on the way. Opened for reading, a directory the command may enter but not list
 * (`chmod 311`, under a server that is not root) was `not_found`. Elsewhere, O_RDONLY as before.
 */
const O_PATH = process.platform === "linux" ? LINUX_O_PATH : constants.O_RDONLY;
const SCHEME = selectPathScheme();
const DIRECTORY_FLAGS = O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW | constants.O_NONBLOCK | SCHEME.openFlags;

/**
 * Finds the directory `components` lead to under `workspace` (a real path) the way the file API's
 * walk does (src/files/walk.ts), but synchronously, for exec admission: each component opened with
 * O_NOFOLLOW through the directory before it (PathScheme), a symlink read and resolved lexically
 * against the workspace, never followed by the kernel. So a symlink out is `outside` from its text
 * alone: the server never looks at the host path it names, and whether that exists cannot change the
 * answer (realpath did, which let a command learn what exists on the host through the server).
 *
 * Under the lexical scheme (macOS) only the opens refuse symlinks in any component; the lstat after
 * a failed open resolves its path again, as docs/PROTOCOL.md (Files) says of that scheme.
 */
export function findDirectoryBeneath(workspace: string, components: readonly string[]): DirectoryBeneath {
  let rootFd: number;
  try {
    rootFd = openSync(workspace, DIRECTORY_FLAGS);
  } catch {
    return { ok: false, reason: "missing" };
  }
  const root: OpenDir = { fd: rootFd, components: [], hostPath: workspace };
  let current = root;
  const release = () => {
    if (current !== root) closeSync(current.fd);
    current = root;
  };
  let queue = [...components];
  let links = 0;
  let retries = 0;
  try {
    for (;;) {
      const name = queue[0];
      if (name === undefined) return { ok: true, components: current.components };
      const entry = SCHEME.entryPath(current, name);
      try {
        const fd = openSync(entry, DIRECTORY_FLAGS);
        const next = { fd, components: [...current.components, name], hostPath: `${current.hostPath}/${name}` };
        release();
        current = next;
        queue.shift();
        continue;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "ENOTDIR" && code !== "ELOOP") return { ok: false, reason: "missing" };
      }
      const stats = lstatSync(entry, { throwIfNoEntry: false });
      if (stats === undefined || stats.isDirectory()) {
        // Swapped since the open: look again, a bounded number of times.
        if (++retries > MAX_RACE_RETRIES) return { ok: false, reason: "missing" };
        continue;
      }
      if (!stats.isSymbolicLink()) return { ok: false, reason: "not_directory" };
      if (++links > MAX_SYMLINKS) return { ok: false, reason: "too_many_links" };
      let target: string;
      try {
        target = readlinkSync(entry);
      } catch {
        if (++retries > MAX_RACE_RETRIES) return { ok: false, reason: "missing" };
        continue;
      }
      const resolved = resolveLinkTarget(workspace, current.components, target);
      if (resolved === null) return { ok: false, reason: "outside" };
      queue = [...resolved, ...queue.slice(1)];
      release();
    }
  } finally {
    release();
    closeSync(rootFd);
  }
}
