/**
 * The components of a protected path (ServerOptions.protectPaths, relative to the workspace):
 * `.git/hooks/` and `./.git//hooks` are both [".git", "hooks"]. A `..` stays in, for each caller
 * to refuse or skip.
 */
export function protectedPathComponents(relative: string): string[] {
  return relative.split("/").filter((part) => part.length > 0 && part !== ".");
}

/** The git directories among the protected paths: `.git` for `.git/hooks`, each once, as components. */
export function protectedGitDirectories(protectedPaths: readonly string[]): string[][] {
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
