/**
 * `list` answers a request of a few bytes with every remembered command whole (up to 8 MiB of them).
 * Sent at once, 20 lists asked in one go queued ~150 MB and the server closed the socket with 4008
 * ("does not read what it is sent") though the client read as fast as it could (found by a review).
 * Now each reply waits for room, as output does.
 */
import { expect, test } from "bun:test";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { connect } from "../helpers/client.ts";
import { useSharedServer } from "../helpers/shared-server.ts";

const shared = useSharedServer({ args: ["--sandbox", "none"] });

const EXECS = 8;
const LISTS = 20;

test("twenty lists of 8 MB each, asked at once, all come back to a client that reads them", async () => {
  await using client = await connect(shared.server);
  const big = "x".repeat(120 * 1024);
  for (let index = 0; index < EXECS; index++) {
    const transcript = await client.exec({ type: "exec", id: `big-${index}`, argv: ["true", big, big, big, big, big, big, big] });
    expect(transcript.exit.code).toBe(0);
  }
  for (let index = 0; index < LISTS; index++) client.send({ type: "list", id: `l${index}` });
  const ids: string[] = [];
  for (let index = 0; index < LISTS; index++) {
    const reply = await Promise.race([
      client.next<Extract<ServerMessage, { type: "execs" }>>((message) => message.type === "execs"),
      client.closed.then(({ code, reason }) => {
        throw new Error(`closed with ${code} (${reason}) after ${index} replies`);
      }),
    ]);
    expect(reply.execs).toHaveLength(EXECS);
    expect(reply.execs[0]!.argv![7]).toHaveLength(big.length);
    ids.push(reply.id!);
  }
  expect(ids.toSorted()).toEqual(Array.from({ length: LISTS }, (_, index) => `l${index}`).toSorted());
  client.send({ type: "ping", id: "after" });
  expect(await client.next((message) => message.type === "pong")).toEqual({ type: "pong", id: "after" });
});
