import { chmod, chown, mkdir, rmdir, rmdirSync } from "node:fs";
import { join } from "node:path";
import { isRunning } from "../common/proc.ts";
import { randomText } from "../common/random-text.ts";
import type { RunAs } from "../sandbox/run-as.ts";

/** How the name of a spare workspace starts: hidden, never a session's (naming.ts). Then the server's pid. */
export const SPARE_WORKSPACE_PREFIX = ".spare-";

/**
 * Whether a spare's server is gone (the start's sweep removes it then). By pid: a server on
 * another host sharing the root looks gone too, and loses its spare, which costs it only a mkdir
 * for its next session (take() finds nothing there and createWorkspace makes the directory).
 */
export function isStaleSpare(name: string): boolean {
  const pid = Number(/^\.spare-(\d+)-/.exec(name)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return true;
  return pid !== process.pid && !isRunning(pid);
}

/**
 * One empty workspace directory made ahead of the next new session, which renames it into place.
 *
 * Why: making a directory on a disk-backed file system is slow here (mkdir measured 170 to 380 us
 * on this machine's ext4, 6 to 33 us on tmpfs), and a new session makes its workspace between the
 * upgrade and hello: a connection per command (`bunker exec`, websocketd's model) waited for it.
 * A rename in the same directory measured ~75 us. The spare is made off the path, on Bun's thread
 * pool, with the mode and owner a workspace gets.
 *
 * Its name is unguessable (128 random bits), as workspace names are (naming.ts): under `--sandbox
 * none` a command runs as the spare's owner and could otherwise find it and leave a file for the
 * next session. A server killed before it removed its spare leaves it for the next start's sweep
 * (ended-workspaces.ts), which tells it by the pid in its name.
 */
export class SpareWorkspace {
  /** A made spare, ready to be taken. */
  #ready: string | undefined;
  /** Settles when the spare being made is ready or has failed; undefined when none is being made. */
  #making: Promise<void> | undefined;
  #disposed = false;

  constructor(
    private readonly root: string,
    private readonly runAs: RunAs | undefined,
  ) {}

  /**
   * The path of a ready spare, which is the caller's from now on. The next one is made once the
   * current event has been handled: a mkdir in the same directory at once (on the thread pool)
   * held up the caller's rename of this one (0.46 ms instead of 0.07, measured).
   */
  take(): string | undefined {
    const taken = this.#ready;
    this.#ready = undefined;
    setTimeout(() => void this.fill(), 0);
    return taken;
  }

  /**
   * Starts making a spare when none is ready or being made. The promise settles when the spare
   * being made is ready (at once when there is one, or after dispose), never with an error: a
   * spare that could not be made is simply not there, and the next session makes its workspace itself.
   */
  fill(): Promise<void> {
    if (this.#making) return this.#making;
    if (this.#ready !== undefined || this.#disposed) return Promise.resolve();
    const path = join(this.root, `${SPARE_WORKSPACE_PREFIX}${process.pid}-${randomText(16, "base64url")}`);
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#making = promise;
    const settle = (made: boolean) => {
      this.#making = undefined;
      if (made && this.#disposed) rmdir(path, () => resolve());
      else {
        if (made) this.#ready = path;
        resolve();
      }
    };
    // The mode again after mkdir, which the umask may have narrowed; the owner last, as createWorkspace does.
    mkdir(path, { mode: 0o700 }, (mkdirError) => {
      if (mkdirError) return settle(false);
      chmod(path, 0o700, (modeError) => {
        if (modeError) return rmdir(path, () => settle(false));
        if (!this.runAs) return settle(true);
        chown(path, this.runAs.uid, this.runAs.gid, (ownerError) => (ownerError ? rmdir(path, () => settle(false)) : settle(true)));
      });
    });
    return promise;
  }

  /** Removes the ready spare and makes no more (the server is stopping). One being made is removed when it is. */
  dispose(): void {
    this.#disposed = true;
    const ready = this.#ready;
    this.#ready = undefined;
    // At once: the process exits as soon as the sessions are closed.
    if (ready === undefined) return;
    try {
      rmdirSync(ready);
    } catch {
      // Removed from outside, or a command's file in it (under `--sandbox none`): the next start's sweep takes it.
    }
  }
}
