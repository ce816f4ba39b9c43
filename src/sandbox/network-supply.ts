import type { RunAs } from "./run-as.ts";
import type { SetupNamespace } from "./setup-namespace.ts";
import { makeSharedNetwork, openSharedNetwork, type SharedNetwork } from "./shared-network.ts";

/** Where sessions get their network namespaces (shared-network.ts) from. */
export interface NetworkSupply {
  /** A namespace for a new session: the spare when one is ready, else one made on the spot (throws when it cannot be). */
  take(): SharedNetwork;
  /** Closes the spare; nothing is made after. */
  close(): void;
  /** Resolves once no spare is being made (the spare is there, or its attempt failed). */
  settled(): Promise<void>;
}

/**
 * Keeps one namespace made ahead: a session's first command takes it instead of waiting ~1 ms for
 * netns, and the next is made in the background once the command is on its way (setImmediate: its
 * spawn first). A connection per command (`bunker exec`, websocketd's model) otherwise paid the
 * wait on every command (measured: 1.18x websocketd's round trip against 1.05x before sessions
 * shared namespaces). A spare made in a setup namespace since replaced is dropped. When the
 * background attempt fails, the next session makes one on the spot and says why if that fails too.
 */
export function createNetworkSupply(makerPath: string, currentSetup: () => SetupNamespace, runAs: RunAs | undefined, first?: SharedNetwork): NetworkSupply {
  // The startup probe's namespace, when given, is the first spare.
  let spare: SharedNetwork | undefined = first;
  let making: Promise<void> | undefined;
  let closed = false;
  const refill = () => {
    if (closed || making || spare) return;
    let setup: SetupNamespace;
    try {
      setup = currentSetup();
    } catch {
      // Being made again: the next session makes its own.
      return;
    }
    making = makeSharedNetwork(makerPath, setup, runAs, currentSetup)
      .then(
        (made) => {
          if (closed) made.close();
          else spare = made;
        },
        () => {},
      )
      .finally(() => (making = undefined));
  };
  refill();
  return {
    take() {
      let taken = spare;
      spare = undefined;
      if (taken?.stale()) {
        taken.close();
        taken = undefined;
      }
      setImmediate(refill);
      return taken ?? openSharedNetwork(makerPath, currentSetup(), runAs, currentSetup);
    },
    close() {
      closed = true;
      spare?.close();
      spare = undefined;
    },
    async settled() {
      await making;
    },
  };
}
