import { ipVersionOf } from "../common/ip-address.ts";

/** Why a connection was refused for the caps; undefined when it may open. */
export type ConnectionCapRefusal = "too_many_connections" | "too_many_connections_per_address";

/** Open WebSocket connections, all together and per address, against their caps. */
export interface ConnectionLimits {
  /** Whether one more connection from this address may open now. */
  check(address: string): ConnectionCapRefusal | undefined;
  opened(address: string): void;
  closed(address: string): void;
  readonly open: number;
}

/** `::ffff:127.0.0.1` (an IPv4 peer of a dual-stack socket) is 127.0.0.1. */
function unmapIPv4(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

/**
 * The client's address: the TCP peer, or with `trustProxy` the last `X-Forwarded-For` entry (the
 * peer that the proxy in front saw; entries before it are whatever the client claimed).
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null, trustProxy: boolean): string {
  if (trustProxy && forwardedFor) {
    const last = forwardedFor.split(",").at(-1)?.trim() ?? "";
    if (ipVersionOf(last) !== 0) return unmapIPv4(last);
  }
  return peer ? unmapIPv4(peer) : "unknown";
}

/** The eight groups of an IPv6 address, expanded. */
function ipv6Groups(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return groups.map((group) => (group.includes(".") ? group : Number.parseInt(group || "0", 16).toString(16)));
}

/**
 * What the per-address cap counts: an IPv4 address, or an IPv6 /64. One IPv6 host usually holds a
 * whole /64, so counting single addresses would not cap it at all.
 */
export function addressKey(address: string): string {
  if (ipVersionOf(address) !== 6) return address;
  return `${ipv6Groups(address.split("%")[0]!).slice(0, 4).join(":")}::/64`;
}

export function createConnectionLimits(maxConnections: number, maxPerAddress: number): ConnectionLimits {
  const perAddress = new Map<string, number>();
  let open = 0;
  return {
    get open() {
      return open;
    },
    check(address) {
      if (open >= maxConnections) return "too_many_connections";
      if ((perAddress.get(addressKey(address)) ?? 0) >= maxPerAddress) return "too_many_connections_per_address";
      return undefined;
    },
    opened(address) {
      open++;
      const key = addressKey(address);
      perAddress.set(key, (perAddress.get(key) ?? 0) + 1);
    },
    closed(address) {
      open--;
      const key = addressKey(address);
      const left = (perAddress.get(key) ?? 1) - 1;
      if (left > 0) perAddress.set(key, left);
      else perAddress.delete(key);
    },
  };
}
