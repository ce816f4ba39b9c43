// What the reconnect tests watch: one session's onReconnecting and onReconnected events.
import type { ConnectOptions, ReconnectedEvent, ReconnectingEvent } from "../../src/client/index.ts";
import { createConditions } from "../helpers/conditions.ts";

/** The events of one session's reconnects, and promises that settle when they have come. */
export function watchReconnects(options: { timeoutMs?: number } = {}) {
  const reconnecting: ReconnectingEvent[] = [];
  const reconnected: ReconnectedEvent[] = [];
  const { until, changed: wake } = createConditions();
  return {
    reconnecting,
    reconnected,
    option: {
      ...options,
      onReconnecting: (event: ReconnectingEvent) => {
        reconnecting.push(event);
        wake();
      },
      onReconnected: (event: ReconnectedEvent) => {
        reconnected.push(event);
        wake();
      },
    } satisfies ConnectOptions["reconnect"],
    /** Resolves once `count` attempts have begun in all. */
    attempts: (count: number) => until(() => reconnecting.length >= count),
    /** Resolves once the session has come back `count` times in all. */
    backs: (count: number) => until(() => reconnected.length >= count),
  };
}
