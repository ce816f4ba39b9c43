/**
 * A session's view secret, derived from its resume secret rather than stored: a session costs no
 * more for it, and it is the same on every hello. One-way (SHA-256 under a label of its own), so a
 * viewer who holds it cannot work out the resume secret, which would let it act on the session.
 * `generation` counts the revocations (`view.revoke`): each makes another secret, and the first
 * (0) is the one servers made before revocation existed.
 */
export function viewSecretOf(resumeSecret: string, generation = 0): string {
  const label = generation === 0 ? "bunker.view" : `bunker.view.${generation}`;
  return Buffer.from(Bun.CryptoHasher.hash("sha256", `${label}\0${resumeSecret}`)).toString("base64url").slice(0, 32);
}
