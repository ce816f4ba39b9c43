import type { SandboxBackend, SandboxPolicy } from "../sandbox/types.ts";
import type { SharedNetwork } from "../sandbox/shared-network.ts";

/**
 * How long a session keeps its network namespace once nothing of it runs: the next command then
 * joins it again instead of paying for a new one (~1 ms), and a session that went quiet gives
 * back what the kernel holds for it (~210 KB measured, not counted in any cgroup of ours).
 * Nothing listens in it meanwhile: a namespace dies with its last process, and none of the
 * session's processes outlive their exec.
 */
export const NETWORK_IDLE_RELEASE_MS = 60_000;

/**
 * The network namespace of one session's commands (shared-network.ts): made with its first
 * command that needs one, kept while commands run and for NETWORK_IDLE_RELEASE_MS after, closed
 * with the session. One the backend can no longer join (a setup namespace made again) is
 * replaced by a new one: commands still running keep the old, so what they listen on is not
 * reached from the new (rare: only the operator replacing the workspace root causes it).
 */
export class SessionNetwork {
  #network: SharedNetwork | undefined;
  #releaseTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    private readonly backend: SandboxBackend,
    /** Told each time a namespace could not be made: that command then gets its own (the next tries again). */
    private readonly onFailure: (message: string) => void,
  ) {}

  /**
   * The namespace for a command starting now under `policy`, or undefined where it gets one of its
   * own (or the host's): the backend makes one per command; the host's network is allowed; or the
   * command is read-only, which through the session's loopback could ask a writable server of the
   * session to write.
   */
  forCommand(policy: Pick<SandboxPolicy, "allowNetwork" | "readOnly">): SharedNetwork | undefined {
    if (policy.allowNetwork || policy.readOnly) return undefined;
    clearTimeout(this.#releaseTimer);
    this.#releaseTimer = undefined;
    if (this.#closed || !this.backend.openSharedNetwork) return undefined;
    if (this.#network?.stale()) {
      this.#network.close();
      this.#network = undefined;
    }
    if (this.#network) return this.#network;
    try {
      this.#network = this.backend.openSharedNetwork();
    } catch (error) {
      this.onFailure((error as Error).message);
    }
    return this.#network;
  }

  /** Nothing of the session runs any more: the namespace goes unless a command starts soon. */
  idle(): void {
    if (!this.#network || this.#releaseTimer) return;
    this.#releaseTimer = setTimeout(() => {
      this.#releaseTimer = undefined;
      this.#network?.close();
      this.#network = undefined;
    }, NETWORK_IDLE_RELEASE_MS);
    this.#releaseTimer.unref?.();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#releaseTimer);
    this.#network?.close();
    this.#network = undefined;
  }
}
