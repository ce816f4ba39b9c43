/**
 * The components of a protected path (ServerOptions.protectPaths, relative to the workspace):
 * `.git/hooks/` and `./.git//hooks` are both [".git", "hooks"]. A `..` stays in, for each caller
 * to refuse or skip.
 */
export function protectedPathComponents(relative: string): string[] {
  return relative.split("/").filter((part) => part.length > 0 && part !== ".");
}
