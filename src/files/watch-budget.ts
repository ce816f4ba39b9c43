import { readFileSync } from "node:fs";

/**
 * A count of watched directories shared by every watch it is given to. Each directory a watch
 * follows is one inotify watch, made by the server and charged to the server's uid host-wide
 * (fs.inotify.max_user_watches): without a bound, clients of a root server could take every watch
 * root has, and systemd, udev and the rest would fail to make theirs. A session's budget takes from
 * the server's too.
 */
export interface WatchBudget {
  /** Takes one directory; undefined when taken, else why not (a sentence for `limit_exceeded`). */
  take(): string | undefined;
  /** Gives back `count` directories taken before. */
  release(count: number): void;
  readonly used: number;
}

/** Directories the watches of one session follow at once, all its connections together. */
export const MAX_WATCHED_DIRECTORIES_PER_SESSION = 16_384;
/** Directories the watches of the whole server follow at once, at most (see serverWatchLimit). */
export const MAX_WATCHED_DIRECTORIES_PER_SERVER = 65_536;

/** A budget of `max` directories, described as `owner` ("this session"), taking from `parent` too. */
export function createWatchBudget(max: number, owner: string, parent?: WatchBudget): WatchBudget {
  let used = 0;
  return {
    take() {
      if (used >= max) return `${owner} already watches ${max} directories, the most it may; unwatch some, or watch a smaller tree`;
      const refused = parent?.take();
      if (refused) return refused;
      used++;
      return undefined;
    },
    release(count) {
      used -= count;
      parent?.release(count);
    },
    get used() {
      return used;
    },
  };
}

/**
 * The server's budget: MAX_WATCHED_DIRECTORIES_PER_SERVER, or half of this host's
 * fs.inotify.max_user_watches where that is less (8192 on kernels before 5.11), so that the
 * server's uid keeps watches for its other processes.
 */
export function serverWatchLimit(maxUserWatchesPath = "/proc/sys/fs/inotify/max_user_watches"): number {
  let hostLimit = Infinity;
  try {
    hostLimit = Number.parseInt(readFileSync(maxUserWatchesPath, "utf8"), 10);
  } catch {
    // Not Linux: FSEvents and kqueue have no such per-user pool.
  }
  return Number.isSafeInteger(hostLimit) && hostLimit > 0 ? Math.min(MAX_WATCHED_DIRECTORIES_PER_SERVER, Math.floor(hostLimit / 2)) : MAX_WATCHED_DIRECTORIES_PER_SERVER;
}
