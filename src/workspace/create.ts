import { chmodSync, chownSync, mkdirSync, realpathSync, renameSync, rmdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomText } from "../common/random-text.ts";
import { namingKeyOf, workspaceNameFor } from "./naming.ts";
import type { RunAs } from "../sandbox/run-as.ts";
import { removeWorkspaceTree } from "./remove-workspace.ts";
import type { SpareWorkspace } from "./spare-workspace.ts";

/**
 * Creates the workspace root and returns its real path. With `runAs`, the root is 0711: the uid
 * that commands run as must pass through it to its own workspace (and bwrap, running as that uid,
 * must reach it to bind it), but cannot list it to find other sessions' workspaces. Every parent
 * must be traversable too; when one is not (/root is 0700), the error says so.
 */
export function ensureWorkspaceRoot(root: string, runAs?: RunAs): string {
  // Parents bunker creates (/var/lib/bunker) must let the command uid through; the root itself is 0700 or 0711.
  if (runAs) mkdirSync(dirname(root), { recursive: true, mode: 0o755 });
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const real = realpathSync(root);
  if (runAs) {
    chmodSync(real, 0o711);
    for (let dir = dirname(real); dir !== dirname(dir) || dir === "/"; dir = dirname(dir)) {
      if (!isTraversableBy(dir, runAs)) {
        throw new Error(`${dir} is not traversable by uid ${runAs.uid}, which commands run as: choose another --workspace-root, or chmod o+x ${dir}`);
      }
      if (dir === "/") break;
    }
  }
  return real;
}

/** A session's workspace on disk. */
export interface Workspace {
  /** Absolute, symlink-free host path. */
  path: string;
  /**
   * Moves the directory out of `path`, to a hidden name beside it, so that `path` is free at once
   * for a new session of the same id or name while this one's processes are still being ended;
   * `remove` then removes it there. When the move fails, `remove` does nothing.
   */
  setAside(): void;
  /** Removes the directory and everything in it (removeWorkspaceTree), without holding up the server. */
  remove(): Promise<void>;
}

/**
 * Creates the workspace of a session under the root, mode 0700, owned by `runAs` when given (so
 * that commands can write in it), from `spare` when it has one ready. The root must be a real path.
 */
export function createWorkspace(root: string, sessionId: string, runAs?: RunAs, spare?: SpareWorkspace): Workspace {
  // Keyed (see namingKeyOf). A workspace kept from before names were keyed is not taken over: the
  // unkeyed name is the predictable path the key retires, where a command could have planted one.
  const path = join(root, workspaceNameFor(sessionId, namingKeyOf(root)));
  const made = spare?.take();
  if (made !== undefined) {
    try {
      // Over nothing, or over an empty directory (a kept workspace of the name that nothing was
      // written to), which it replaces with one of the right mode and owner. A kept workspace
      // with files is refused (ENOTEMPTY) and taken as it is, below.
      renameSync(made, path);
      return new WorkspaceDir(path);
    } catch {
      try {
        rmdirSync(made);
      } catch {
        // Left for the next start's sweep (ended-workspaces.ts).
      }
    }
  }
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
  if (runAs) chownSync(path, runAs.uid, runAs.gid);
  return new WorkspaceDir(path);
}

/** Whether `runAs` may pass through a directory, by its mode bits. */
function isTraversableBy(dir: string, runAs: RunAs): boolean {
  const { mode, uid, gid } = statSync(dir);
  if (uid === runAs.uid) return (mode & 0o100) !== 0;
  if (gid === runAs.gid) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

/** How the name of a workspace set aside by its ending session starts (see setAside). */
export const ENDED_WORKSPACE_PREFIX = ".ended-";

/** A class rather than an object with a closure: one lives as long as every session. */
class WorkspaceDir implements Workspace {
  /**
   * What remove() removes: `path`, or its hidden name once set aside; undefined when setAside could
   * not move it, for a new session of the same name may have made its own at `path` meanwhile
   * (found by a review; an inode check does not tell, as a new directory often gets the inode
   * number of the one just removed).
   */
  #removable: string | undefined;

  constructor(readonly path: string) {
    this.#removable = path;
  }

  setAside(): void {
    // Workspace names never start with a dot (naming.ts): a hidden name cannot be any session's.
    const aside = join(dirname(this.path), `${ENDED_WORKSPACE_PREFIX}${basename(this.path)}-${randomText(6, "hex")}`);
    try {
      renameSync(this.path, aside);
      this.#removable = aside;
    } catch {
      // Gone already (removed from outside), a mount point, not ours to move: not removed either.
      this.#removable = undefined;
    }
  }

  async remove(): Promise<void> {
    if (this.#removable !== undefined) await removeWorkspaceTree(this.#removable);
  }
}
