import type { ServerMessage } from "../../../src/protocol/index.ts";
import { connect, type TestClient } from "../../helpers/client.ts";
import { replyOf } from "../../helpers/round-trip.ts";
import type { TestServer } from "../../helpers/server-process.ts";

export { replyOf };

/** Sends a file request and waits for its first reply (or error). */
export function request<T extends ServerMessage = ServerMessage>(client: TestClient, message: Record<string, unknown> & { type: string; id: string }): Promise<T> {
  client.send(message);
  return replyOf<T>(client, message.id);
}

/** Another socket joined to `client`'s session, with its resume secret. */
export function joinSession(server: TestServer, client: TestClient): Promise<TestClient> {
  return connect(server, { query: { session: client.hello.session }, protocols: ["bunker.v1", `bunker.resume.${client.hello.resumeSecret}`] });
}

/** `/files/<path>?session=<id>` of the client's session, with the path percent-encoded per component. */
export function fileUrl(server: TestServer, client: TestClient, path: string): string {
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  return `http://127.0.0.1:${server.port}/files/${encoded}?session=${client.hello.session}`;
}

/** The token header of the test server. */
export function bearer(server: TestServer): Record<string, string> {
  return { authorization: `Bearer ${server.token}` };
}
