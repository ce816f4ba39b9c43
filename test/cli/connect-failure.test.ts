import { expect, test } from "bun:test";
import { BunkerError } from "../../src/client/index.ts";
import { describeRefusal, handshakeStatus } from "../../src/cli/connect-failure.ts";

const refused = (text: string) => new BunkerError("connect_failed", `could not connect to ws://h:1/ws: ${text}`);

test("reads the handshake's HTTP status from Bun's and ws's messages", () => {
  expect(handshakeStatus(refused("WebSocket connection to 'ws://h:1/ws' failed: Expected 101 status code: 401"))).toBe(401);
  expect(handshakeStatus(refused("Unexpected server response: 503"))).toBe(503);
  expect(handshakeStatus(refused("Failed to connect"))).toBeUndefined();
  expect(handshakeStatus(new BunkerError("unknown_session", "Expected 101 status code: 401"))).toBeUndefined();
});

test("says what to check for each status bunker's upgrade refuses with, and nothing for others", () => {
  const status = (code: number) => refused(`Expected 101 status code: ${code}`);
  expect(describeRefusal(status(401), { tokenSource: "BUNKER_TOKEN" })).toBe("the server refused the token (HTTP 401): check BUNKER_TOKEN");
  expect(describeRefusal(status(401), { tokenSource: "--token" })).toBe("the server refused the token (HTTP 401): check --token");
  expect(describeRefusal(status(401), { tokenSource: undefined })).toBe("the server wants a token (HTTP 401): pass --token or set BUNKER_TOKEN");
  expect(describeRefusal(status(403), { tokenSource: undefined })).toBe(
    "the server refused the connection (HTTP 403): its origin check (--allow-origin) or a proxy in front of it turned this client away",
  );
  expect(describeRefusal(status(404), { tokenSource: undefined })).toBe("the server has no WebSocket endpoint at this URL (HTTP 404): check --url or BUNKER_URL (bunker's is /ws)");
  expect(describeRefusal(status(429), { tokenSource: undefined })).toBe(
    "the server refused the connection (HTTP 429): this address has as many connections open as its --max-connections-per-address allows; try again later",
  );
  expect(describeRefusal(status(503), { tokenSource: undefined })).toBe("the server refused the connection (HTTP 503): it is shutting down, or has its --max-connections open; try again later");
  expect(describeRefusal(status(500), { tokenSource: undefined })).toBeUndefined();
  expect(describeRefusal(refused("Failed to connect"), { tokenSource: undefined })).toBeUndefined();
});
