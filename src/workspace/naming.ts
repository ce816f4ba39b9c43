import { closeSync, constants, linkSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { randomText } from "../common/random-text.ts";

/** The file in the workspace root that holds the key workspace names are made with (see workspaceNameFor). */
export const NAMING_KEY_FILE = ".bunker-naming-key";

/**
 * The directory name of a session's workspace: a readable prefix of the id, reduced to a safe
 * alphabet so that it can never hold a slash, a dot-dot or a leading dot, plus a hash of the whole
 * id so that two ids that sanitise alike still never collide.
 *
 * With `key` (the workspace root's, see namingKeyOf) the hash is an HMAC: a command that knows
 * another session's name cannot work out where its workspace is. Without it a named session's path
 * followed from its name, and an audit found a way for a command to create files at a path it
 * knows on the host (SECURITY.md, the race in bwrap's mount points).
 */
export function workspaceNameFor(sessionId: string, key?: Uint8Array): string {
  const prefix = sessionId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 32) || "session";
  const hash = key ? new Bun.CryptoHasher("sha256", key).update(sessionId).digest("hex").slice(0, 16) : Bun.CryptoHasher.hash("sha256", sessionId, "hex").slice(0, 16);
  return `${prefix}-${hash}`;
}

const keys = new Map<string, Uint8Array>();

/**
 * The naming key of a workspace root: 32 random bytes in `<root>/.bunker-naming-key` (0600, the
 * server's), made by the first server to need it and read by every later one, so that a name keeps
 * its workspace across restarts and servers that share the root agree. Made whole before it is
 * linked into place, so that no server reads half of one.
 */
export function namingKeyOf(root: string): Uint8Array {
  const known = keys.get(root);
  if (known) return known;
  const path = join(root, NAMING_KEY_FILE);
  let key: Uint8Array;
  try {
    key = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    // Not node:crypto: loading it costs `serve` ~5 ms of start (common/random-text.ts).
    const draft = `${path}.${process.pid}.${randomText(6, "hex")}`;
    try {
      const fd = openSync(draft, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        writeSync(fd, crypto.getRandomValues(new Uint8Array(32)));
      } finally {
        closeSync(fd);
      }
      try {
        linkSync(draft, path);
      } catch (linkError) {
        if ((linkError as NodeJS.ErrnoException).code !== "EEXIST") throw linkError;
      }
    } finally {
      try {
        unlinkSync(draft);
      } catch {
        // Never made: the open failed.
      }
    }
    key = readFileSync(path);
  }
  if (key.byteLength < 16) throw new Error(`${path} holds ${key.byteLength} bytes, too few for a naming key: remove it, and the next server makes a new one (named sessions then get new workspaces)`);
  keys.set(root, key);
  return key;
}
