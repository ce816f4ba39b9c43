/**
 * SessionNetwork (src/server/session-network.ts): one real network namespace per session, made by
 * netns in a real setup namespace, kept while commands run and released NETWORK_IDLE_RELEASE_MS
 * after the last (fake timers stand in for the minute).
 */
import { afterEach, beforeEach, describe, expect, jest, test } from "bun:test";
import { readlinkSync } from "node:fs";
import type { SetupNamespace } from "../../src/sandbox/setup-namespace.ts";
import { installNetnsMaker, openSharedNetwork, type SharedNetwork } from "../../src/sandbox/shared-network.ts";
import type { SandboxBackend } from "../../src/sandbox/types.ts";
import { NETWORK_IDLE_RELEASE_MS, SessionNetwork } from "../../src/server/session-network.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { hostArch, useSetupNamespace } from "../helpers/setup-namespace-fixture.ts";

const fixture = useSetupNamespace("bunker-session-network-");
/** The setup namespace the backend below says is current (a test replaces it). */
let current: SetupNamespace | undefined;
beforeEach(() => {
  current = fixture.namespace;
});
afterEach(() => {
  jest.useRealTimers();
});

/** A command's policy without the host's network, writable: one that joins the session's namespace. */
const NO_NETWORK = { allowNetwork: false };

/** A backend that makes real namespaces in the test's setup namespace, counting them. */
function backendMaking(made: SharedNetwork[]): SandboxBackend {
  return {
    name: "bwrap",
    enforcesReadOnly: true,
    buildCommand: () => {
      throw new Error("not used");
    },
    tempDir: () => "/tmp",
    openSharedNetwork() {
      const network = openSharedNetwork(installNetnsMaker(fixture.dir, hostArch!), fixture.namespace!, undefined, () => current!);
      made.push(network);
      return network;
    },
  };
}

function isOpenNamespace(fd: number): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`).startsWith("net:");
  } catch {
    return false;
  }
}

describe.skipIf(noBwrap || !hostArch)("a session's network namespace", () => {
  test("is made with the first command, and the same one is given to every command after it", () => {
    const made: SharedNetwork[] = [];
    const network = new SessionNetwork(backendMaking(made), () => {});
    const first = network.forCommand(NO_NETWORK);
    expect(first).toBeDefined();
    expect(network.forCommand(NO_NETWORK)).toBe(first);
    expect(made).toHaveLength(1);
    network.close();
    expect(isOpenNamespace(first!.fd)).toBe(false);
    // Closed with its session: no new one for a command that comes after.
    expect(network.forCommand(NO_NETWORK)).toBeUndefined();
    expect(made).toHaveLength(1);
  });

  test("is released a while after the last command ended, and a new one is made for the next", () => {
    jest.useFakeTimers();
    const made: SharedNetwork[] = [];
    const network = new SessionNetwork(backendMaking(made), () => {});
    const first = network.forCommand(NO_NETWORK)!;
    network.idle();
    jest.advanceTimersByTime(NETWORK_IDLE_RELEASE_MS - 1);
    expect(isOpenNamespace(first.fd)).toBe(true);
    jest.advanceTimersByTime(1);
    expect(isOpenNamespace(first.fd)).toBe(false);
    const second = network.forCommand(NO_NETWORK)!;
    expect(made).toHaveLength(2);
    expect(isOpenNamespace(second.fd)).toBe(true);
    network.close();
  });

  test("is kept when a command starts before the release is due", () => {
    jest.useFakeTimers();
    const made: SharedNetwork[] = [];
    const network = new SessionNetwork(backendMaking(made), () => {});
    const first = network.forCommand(NO_NETWORK)!;
    network.idle();
    jest.advanceTimersByTime(NETWORK_IDLE_RELEASE_MS / 2);
    expect(network.forCommand(NO_NETWORK)).toBe(first);
    jest.advanceTimersByTime(NETWORK_IDLE_RELEASE_MS);
    expect(isOpenNamespace(first.fd)).toBe(true);
    expect(made).toHaveLength(1);
    network.close();
  });

  test("is replaced once the setup namespace was made again, which cannot join it", () => {
    const made: SharedNetwork[] = [];
    const network = new SessionNetwork(backendMaking(made), () => {});
    const first = network.forCommand(NO_NETWORK)!;
    const firstNamespace = readlinkSync(`/proc/self/fd/${first.fd}`);
    current = { ...fixture.namespace! };
    const second = network.forCommand(NO_NETWORK)!;
    expect(second).not.toBe(first);
    expect(made).toHaveLength(2);
    // The first one's fd was closed (its number may be the second's now).
    expect(readlinkSync(`/proc/self/fd/${second.fd}`)).not.toBe(firstNamespace);
    expect(first.stale()).toBe(true);
    network.close();
  });

  test("a namespace that cannot be made is said once per attempt, and the command gets none to share", () => {
    const failures: string[] = [];
    const backend: SandboxBackend = { ...backendMaking([]), openSharedNetwork: () => openSharedNetwork("/nonexistent/netns", fixture.namespace!, undefined, () => fixture.namespace!) };
    const network = new SessionNetwork(backend, (message) => failures.push(message));
    expect(network.forCommand(NO_NETWORK)).toBeUndefined();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain("/nonexistent/netns");
    network.close();
  });

  test("is not given to a command with the host's network, nor to a read-only one, and is not made for them", () => {
    const made: SharedNetwork[] = [];
    const network = new SessionNetwork(backendMaking(made), () => {});
    expect(network.forCommand({ allowNetwork: true })).toBeUndefined();
    expect(network.forCommand({ allowNetwork: false, readOnly: true })).toBeUndefined();
    expect(made).toHaveLength(0);
    network.close();
  });

  test("a backend with no namespaces to share gives none", () => {
    const { openSharedNetwork: _none, ...backend } = backendMaking([]);
    const network = new SessionNetwork(backend, () => {
      throw new Error("no failure expected");
    });
    expect(network.forCommand(NO_NETWORK)).toBeUndefined();
  });
});
