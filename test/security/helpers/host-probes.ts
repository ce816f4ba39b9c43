/**
 * The host's side of the escape suite: services an attempt tries to reach, and looks into the host's
 * /proc for processes an attempt tried to leave behind.
 */
import { readdirSync, readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";

/** Host pids whose command line (arguments joined by spaces) is exactly `commandLine`. */
export function hostProcessesMatching(commandLine: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim() === commandLine) pids.push(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return pids;
}

/** A listening socket on the host that greets every connection with `sentinel` and a newline. */
export interface SentinelService {
  /** The port (TCP) or path (unix; `@name` for an abstract socket). */
  readonly address: string;
  readonly port: number;
  /** How many connections it accepted. */
  readonly accepted: () => number;
  stop(): void;
}

function greet(sentinel: string, onAccept: () => void) {
  return {
    open(socket: { write(data: string): number; end(): void }) {
      onAccept();
      socket.write(`${sentinel}\n`);
      socket.end();
    },
    data() {},
  };
}

/** A TCP service on 127.0.0.1 (or `hostname`), port 0. */
export function listenTcpSentinel(sentinel: string, hostname = "127.0.0.1"): SentinelService {
  let accepted = 0;
  const listener = Bun.listen({ hostname, port: 0, socket: greet(sentinel, () => accepted++) });
  return { address: hostname, port: listener.port, accepted: () => accepted, stop: () => listener.stop(true) };
}

/** A unix socket service at `path`; `@name` listens on the abstract name `name`. */
export function listenUnixSentinel(sentinel: string, path: string): SentinelService {
  let accepted = 0;
  const listener = Bun.listen({ unix: path.startsWith("@") ? `\0${path.slice(1)}` : path, socket: greet(sentinel, () => accepted++) });
  return { address: path, port: 0, accepted: () => accepted, stop: () => listener.stop(true) };
}

/** The host's first non-loopback IPv4 address, or a TEST-NET-1 address when it has none. */
export function hostExternalIPv4(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((address) => address.family === "IPv4" && !address.internal);
    if (external) return external.address;
  }
  return "192.0.2.1";
}
