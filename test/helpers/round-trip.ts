import type { ServerMessage } from "../../src/protocol/index.ts";
import type { TestClient } from "./client.ts";

/** The next message with this id: a reply, an error, one of an exec's or a transfer's messages. */
export function replyOf<T extends ServerMessage = ServerMessage>(client: TestClient, id: string): Promise<T> {
  return client.next<T>((message) => "id" in message && message.id === id);
}

/** A round trip on the socket: everything the server sent before the reply is queued once it is back. */
export async function roundTrip(client: TestClient): Promise<void> {
  const id = `sync-${crypto.randomUUID()}`;
  client.send({ type: "list", id });
  await client.next((m) => m.type === "execs" && m.id === id);
}
