import type { Session } from "./session.ts";

/** The sessions handed to sockets, counted live (a socket joined) or detached (none) when scraped. */
export interface SessionGauge {
  add(session: Session): void;
  count(): { live: number; detached: number };
}

export function createSessionGauge(): SessionGauge {
  const held = new Set<Session>();
  return {
    add: (session) => void held.add(session),
    count() {
      let live = 0;
      let detached = 0;
      for (const session of held) {
        // Ended sessions leave the set here, so it holds at most what the registry holds plus the newly ended.
        if (session.ended) held.delete(session);
        else if (session.connectionCount > 0) live++;
        else detached++;
      }
      return { live, detached };
    },
  };
}
