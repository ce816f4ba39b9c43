import { basename, dirname } from "node:path";
import { createConfinedRoot, directoryOpenFlags } from "../files/confined-root.ts";
import { closeFd, openFd } from "../files/fs-calls.ts";
import { removeDirectory } from "../files/remove-tree.ts";

/**
 * Removes the directory at `path` (a workspace, or one set aside under the workspace root: the
 * server's own path) with everything in it, without following a symlink. Asynchronous, and linear
 * in the tree's size however deep it goes (removeDirectory): what a workspace holds is up to its
 * commands, and Bun's rmSync, which this replaces, held the server's event loop, every session
 * with it, for time quadratic in the depth (a chain of 1,500 directories: 10 s; 25,000: hours).
 */
export async function removeWorkspaceTree(path: string): Promise<void> {
  const parent = createConfinedRoot(dirname(path), undefined);
  const fd = await openFd(parent.workspace, directoryOpenFlags(parent));
  try {
    await removeDirectory(parent, { fd, components: [], hostPath: parent.workspace }, basename(path));
  } finally {
    closeFd(fd);
  }
}
