/**
 * The spare network namespace (src/sandbox/network-supply.ts): made ahead in a real setup
 * namespace, handed to the next session, made again after, dropped when its setup namespace was
 * replaced, closed with the supply.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readlinkSync } from "node:fs";
import { createNetworkSupply } from "../../src/sandbox/network-supply.ts";
import type { SetupNamespace } from "../../src/sandbox/setup-namespace.ts";
import { installNetnsMaker } from "../../src/sandbox/shared-network.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { hostArch, useSetupNamespace } from "../helpers/setup-namespace-fixture.ts";

const fixture = useSetupNamespace("bunker-network-supply-");
const maker = () => installNetnsMaker(fixture.dir, hostArch!);

/** The network namespaces this process holds open, by their link text (`net:[<inode>]`). */
function openNamespaces(): string[] {
  return readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith("net:") ? [target] : [];
    } catch {
      return [];
    }
  });
}

describe.skipIf(noBwrap || !hostArch)("the spare network namespace", () => {
  test("is made ahead, handed to the next session, and another is made once it is taken", async () => {
    const before = openNamespaces();
    const supply = createNetworkSupply(maker(), () => fixture.namespace!, undefined);
    try {
      await supply.settled();
      const spare = openNamespaces().filter((name) => !before.includes(name));
      expect(spare).toHaveLength(1);
      const taken = supply.take();
      // The spare itself, not one made on the spot.
      expect(readlinkSync(`/proc/self/fd/${taken.fd}`)).toBe(spare[0]!);
      // The next one comes after the taker's turn (setImmediate), in the background.
      await new Promise((resolve) => setImmediate(resolve));
      await supply.settled();
      const next = openNamespaces().filter((name) => !before.includes(name) && name !== spare[0]);
      expect(next).toHaveLength(1);
      taken.close();
    } finally {
      supply.close();
    }
    expect(openNamespaces()).toEqual(before);
  });

  test("without a spare ready, makes one on the spot", async () => {
    const supply = createNetworkSupply(maker(), () => fixture.namespace!, undefined);
    try {
      // Taken before the spare made at creation is there.
      const taken = supply.take();
      expect(readlinkSync(`/proc/self/fd/${taken.fd}`)).toMatch(/^net:\[\d+\]$/);
      expect(taken.stale()).toBe(false);
      taken.close();
      await supply.settled();
    } finally {
      supply.close();
    }
  });

  test("drops a spare made in a setup namespace since replaced, and makes the session's in the current one", async () => {
    let current: SetupNamespace = fixture.namespace!;
    const supply = createNetworkSupply(maker(), () => current, undefined);
    try {
      await supply.settled();
      const spare = openNamespaces();
      current = { ...fixture.namespace! };
      const taken = supply.take();
      expect(taken.setup).toBe(current);
      expect(taken.stale()).toBe(false);
      taken.close();
      await new Promise((resolve) => setImmediate(resolve));
      await supply.settled();
      // The stale spare was closed; the fresh spare is the current setup namespace's.
      expect(openNamespaces().filter((name) => spare.includes(name))).toHaveLength(spare.length - 1);
    } finally {
      supply.close();
    }
  });

  test("says netns's words when no namespace can be made on the spot", () => {
    const supply = createNetworkSupply("/nonexistent/netns", () => fixture.namespace!, undefined);
    try {
      expect(() => supply.take()).toThrow("/nonexistent/netns");
    } finally {
      supply.close();
    }
  });
});
