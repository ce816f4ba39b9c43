/**
 * A PUT past Bun's default request body limit (128 MiB) got a bare 413 with no X-Bunker-Error,
 * where PROTOCOL.md promises the file API's limits (64 GiB a transfer) and its words (a review).
 */
import { expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { useSharedServer } from "../helpers/shared-server.ts";
import { bearer, fileUrl } from "./helpers/real-session.ts";

const shared = useSharedServer({ args: ["--sandbox", "none"] });
const SIZE = 128 * 1024 * 1024 + 4096;
const CHUNK = 1024 * 1024;

/** SIZE bytes, a MiB at a time, without holding them all. */
function body(): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= SIZE) return controller.close();
      const length = Math.min(CHUNK, SIZE - sent);
      controller.enqueue(new Uint8Array(length).fill(sent / CHUNK));
      sent += length;
    },
  });
}

test("a PUT of more than 128 MiB is written whole", async () => {
  await using client = await connect(shared.server);
  const response = await fetch(fileUrl(shared.server, client, "big.bin"), { method: "PUT", body: body(), headers: bearer(shared.server), duplex: "half" } as RequestInit);
  expect([response.status, response.headers.get("x-bunker-error")]).toEqual([201, null]);
  expect(statSync(join(client.hello.workspace, "big.bin")).size).toBe(SIZE);
}, 60_000);
