/**
 * The components of a protected path (ServerOptions.protectPaths, relative to the workspace):
 * `.git/hooks/` and `./.git//hooks` are both [".git", "hooks"]. A `..` stays in, for each caller
 * to refuse or skip.
 */
export function protectedPathComponents(relative: string): string[] {
  return relative.split("/").filter((part) => part.length > 0 && part !== ".");
}

/** protectedGitDirectories' answers by the list asked about: the server's list is one array for its life. */
const gitDirectoriesOf = new WeakMap<readonly string[], readonly (readonly string[])[]>();

/**
 * The git directories among the protected paths: `.git` for `.git/hooks`, each once, as components.
 * Remembered per list: each exec asks three times (its protected paths, the sweeps of git's
 * redirects before and after it), ~1.5% of a server's CPU at 8 execs in flight (profiled).
 */
export function protectedGitDirectories(protectedPaths: readonly string[]): readonly (readonly string[])[] {
  let directories = gitDirectoriesOf.get(protectedPaths);
  if (!directories) {
    directories = findGitDirectories(protectedPaths);
    gitDirectoriesOf.set(protectedPaths, directories);
  }
  return directories;
}

function findGitDirectories(protectedPaths: readonly string[]): readonly (readonly string[])[] {
  const found = new Map<string, string[]>();
  for (const relative of protectedPaths) {
    const components = protectedPathComponents(relative);
    if (components.includes("..")) continue;
    // A directory on the way to the protected path, not the path itself (`--protect .git` makes it all read-only).
    for (let depth = 1; depth < components.length; depth++) {
      if (components[depth - 1] === ".git") found.set(components.slice(0, depth).join("/"), components.slice(0, depth));
    }
  }
  return [...found.values()];
}
