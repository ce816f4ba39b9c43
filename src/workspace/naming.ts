/**
 * The directory name of a session's workspace: a readable prefix of the id, reduced to a safe
 * alphabet so that it can never hold a slash, a dot-dot or a leading dot, plus a hash of the whole
 * id so that two ids that sanitise alike still never collide.
 */
export function workspaceNameFor(sessionId: string): string {
  const prefix = sessionId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 32) || "session";
  const hash = Bun.CryptoHasher.hash("sha256", sessionId, "hex").slice(0, 16);
  return `${prefix}-${hash}`;
}
