/** The host uid and gid that sandboxed commands run as. */
export interface RunAs {
  uid: number;
  gid: number;
}

/** nobody:nogroup on Debian and most distributions. */
export const NOBODY: RunAs = { uid: 65534, gid: 65534 };

/**
 * Never root inside: a server running as root runs commands as nobody unless told otherwise
 * (`--run-as`). bwrap then builds its sandbox through an unprivileged user namespace, so commands
 * hold no capability on the host, and root-only files in bound system directories (/etc/shadow)
 * stay unreadable. A server that is not root cannot switch users and runs commands as itself.
 */
export function defaultRunAs(euid: number): RunAs | undefined {
  return euid === 0 ? NOBODY : undefined;
}

/** Parses `UID[:GID]` (numbers; the gid defaults to the uid). undefined when malformed. */
export function parseRunAs(text: string): RunAs | undefined {
  const match = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(text);
  if (!match) return undefined;
  const uid = Number(match[1]);
  const gid = match[2] === undefined ? uid : Number(match[2]);
  if (uid > 0xfffffffe || gid > 0xfffffffe) return undefined;
  return { uid, gid };
}
