import type { ServerMessage } from "../../src/protocol/index.ts";
import type { TestClient } from "./client.ts";

/** The next message about exec (or request) `id`. */
export function nextFor(client: TestClient, id: string): Promise<ServerMessage> {
  return client.next((m) => "id" in m && m.id === id);
}

/** A round trip on the socket: everything the server sent before the reply is queued once it is back. */
export async function roundTrip(client: TestClient): Promise<void> {
  const id = `sync-${crypto.randomUUID()}`;
  client.send({ type: "list", id });
  await client.next((m) => m.type === "execs" && m.id === id);
}
