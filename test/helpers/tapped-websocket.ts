// A WebSocket class for the client library that lets a test see the wire: every text frame sent and
// received, and a wait for the first one that matches. It adds nothing else to Bun's WebSocket.

import { connect, type Session } from "../../src/client/index.ts";
import type { TestServer } from "./server-process.ts";

/** What a tapped socket recorded, and a way to await a frame. */
export interface WireTap {
  /** Text frames the client sent, parsed. */
  readonly sent: Record<string, unknown>[];
  /** Text frames the client received, parsed. */
  readonly received: Record<string, unknown>[];
  /** Resolves with the first frame, already recorded or yet to come, that matches. */
  until(direction: "sent" | "received", matches: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** The WebSocket class to pass to `connect` (with `tokenVia: "subprotocol"`). */
  readonly WebSocket: typeof WebSocket;
}

/** Makes a tap; each socket opened through its class records into it. */
export function createWireTap(): WireTap {
  const sent: Record<string, unknown>[] = [];
  const received: Record<string, unknown>[] = [];
  const waiters: { direction: "sent" | "received"; matches: (message: Record<string, unknown>) => boolean; resolve: (message: Record<string, unknown>) => void }[] = [];
  const record = (direction: "sent" | "received", text: string) => {
    const message = JSON.parse(text) as Record<string, unknown>;
    (direction === "sent" ? sent : received).push(message);
    for (const waiter of [...waiters]) {
      if (waiter.direction === direction && waiter.matches(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  };
  class TappedWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      // Registered first, so the tap sees a frame before the client acts on it.
      super.addEventListener("message", (event: MessageEvent) => {
        if (typeof event.data === "string") {
          record("received", event.data);
        }
      });
    }
    override send(data: Parameters<WebSocket["send"]>[0]): void {
      if (typeof data === "string") record("sent", data);
      super.send(data);
    }
  }
  return {
    sent,
    received,
    until(direction, matches) {
      const found = (direction === "sent" ? sent : received).find(matches);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ direction, matches, resolve }));
    },
    WebSocket: TappedWebSocket,
  };
}

/** Resolves once the tapped client has sent `bytes` of stdin for `id` (raw, from the base64 it sent). */
export function stdinSent(tap: WireTap, id: string, bytes: number): Promise<unknown> {
  let total = 0;
  return tap.until("sent", (message) => {
    if (message["type"] !== "stdin" || message["id"] !== id || typeof message["data"] !== "string") return false;
    total += Buffer.from(message["data"], "base64").byteLength;
    return total >= bytes;
  });
}

/** A client-library session to `server` whose socket is tapped (token as a subprotocol, as a page sends it). */
export async function connectTapped(server: TestServer, options: { resume?: Session["resume"] } = {}): Promise<{ session: Session; tap: WireTap }> {
  const tap = createWireTap();
  const session = await connect(server.url, { token: server.token!, tokenVia: "subprotocol", WebSocket: tap.WebSocket, ...options });
  return { session, tap };
}
