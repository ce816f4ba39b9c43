import { closeSync, openSync } from "node:fs";
import { fillAnonymousFile, openAnonymousFile } from "./anonymous-file.ts";

/**
 * Files opened one exec ahead. Each bwrap spawn needs an open of its own of the seccomp filter
 * (bwrap reads it to its end) and two files with no name (the command's environment for --args,
 * bwrap's messages); opening them cost ~0.1 ms of every exec's round trip, measured on a server
 * that sleeps between commands (what runs after a sleep runs several times slower than in a loop).
 * So after an exec has taken its files, one of each is opened again while its sandbox starts, and
 * the next exec takes those. Execs that come at once open what is not there on the spot.
 */
export interface SpareFds {
  /** A read-only open of `path`, at its start. */
  takeFile(path: string): number;
  /** A file with no name holding `bytes`, open for reading from its start (see openAnonymousFile). */
  takeAnonymous(bytes: Uint8Array): number;
}

/** How many files with no name wait: an exec takes two. */
const SPARE_ANONYMOUS = 2;

/** The process's spare files: one set serves every server in it (the tests run several). */
export const spareFds: SpareFds = createSpareFds();

export function createSpareFds(): SpareFds {
  // One path only: a server's filter lives as long as the server, and another server's replaces it.
  let spareFile: { path: string; fd: number } | undefined;
  let lastPath: string | undefined;
  const spareAnonymous: number[] = [];
  let refillQueued = false;

  // A failure leaves that spare out (the next exec opens its own, and says so if it cannot): a file
  // gone with its server's runtime directory is not tried again until an exec asks for it.
  const refill = () => {
    refillQueued = false;
    if (lastPath !== undefined && spareFile === undefined) {
      try {
        spareFile = { path: lastPath, fd: openSync(lastPath, "r") };
      } catch {
        lastPath = undefined;
      }
    }
    try {
      while (spareAnonymous.length < SPARE_ANONYMOUS) spareAnonymous.push(openAnonymousFile(new Uint8Array()));
    } catch {
      // Out of fds or memory: the next exec opens its own.
    }
  };
  const queueRefill = () => {
    if (refillQueued) return;
    refillQueued = true;
    setImmediate(refill);
  };

  return {
    takeFile(path) {
      queueRefill();
      lastPath = path;
      const spare = spareFile;
      spareFile = undefined;
      if (spare?.path === path) return spare.fd;
      if (spare) closeSync(spare.fd);
      return openSync(path, "r");
    },
    takeAnonymous(bytes) {
      queueRefill();
      const fd = spareAnonymous.pop();
      return fd === undefined ? openAnonymousFile(bytes) : fillAnonymousFile(fd, bytes);
    },
  };
}
