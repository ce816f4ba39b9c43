import { closeSetupNamespace, isSetupNamespaceCurrent, openSetupNamespace, type SetupNamespace, type SetupNamespaceOptions } from "./setup-namespace.ts";

/** The setup namespace for the execs to come, made again when the host's directories changed under it. */
export interface SetupNamespaceKeeper {
  /** The namespace to start bwrap in; throws (the exec fails) while it is being made again. */
  current(): SetupNamespace;
  /**
   * The namespace current() last gave, without looking at the host (no stat): what a network
   * namespace made in it is checked against per exec (shared-network.ts). Throws once closed.
   */
  latest(): SetupNamespace;
  close(): void;
}

/**
 * Keeps `first` while the directories it binds are still the host's (one stat each per exec);
 * once one was replaced (the workspace root removed and made again, an --allow-write directory
 * swapped), every exec would fail in bwrap or see the old directory, so a new namespace is made
 * in the background and execs fail with a message that says so until it is there (~10 ms).
 * Never falls back to bwrap without a namespace: only the operator can replace these directories.
 */
export function createSetupNamespaceKeeper(first: SetupNamespace, options: SetupNamespaceOptions): SetupNamespaceKeeper {
  let namespace: SetupNamespace | undefined = first;
  let renewing: Promise<void> | undefined;
  let lastFailure: string | undefined;
  return {
    current() {
      if (namespace && isSetupNamespaceCurrent(namespace)) return namespace;
      renewing ??= openSetupNamespace(options)
        .then(
          (fresh) => {
            if (namespace) closeSetupNamespace(namespace);
            namespace = fresh;
            lastFailure = undefined;
          },
          (error: Error) => {
            lastFailure = error.message;
          },
        )
        .finally(() => (renewing = undefined));
      throw new Error(
        `the workspace root or an --allow-read/--allow-write directory was replaced since the server started; bwrap's setup namespace is being made again: try again${lastFailure ? ` (the last attempt failed: ${lastFailure})` : ""}`,
      );
    },
    latest() {
      if (!namespace) throw new Error("the setup namespace was closed");
      return namespace;
    },
    close() {
      if (namespace) closeSetupNamespace(namespace);
      namespace = undefined;
    },
  };
}
