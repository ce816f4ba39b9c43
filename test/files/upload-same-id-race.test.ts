import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { joinSession, replyOf, request } from "./helpers/real-session.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ args: ["--max-messages-per-second", "100000"] });
});
afterAll(async () => {
  await server[Symbol.asyncDispose]();
});

const CHUNK = 100_000;
const CHUNKS = 4;

/** Uploads CHUNKS chunks of byte `fill` to `path` with id "up"; the upload's last message. */
async function uploadFilled(socket: TestClient, path: string, fill: number): Promise<ServerMessage> {
  const ready = await request(socket, { type: "file.upload", id: "up", path, size: CHUNK * CHUNKS });
  if (ready.type !== "file.upload.ready") return ready;
  for (let i = 0; i < CHUNKS; i++) {
    socket.send({ type: "file.upload.chunk", id: "up", offset: i * CHUNK, data: Buffer.alloc(CHUNK, fill).toString("base64"), ...(i === CHUNKS - 1 && { eof: true }) });
  }
  for (;;) {
    const message = await replyOf(socket, "up");
    if (message.type !== "file.upload.ack") return message;
  }
}

test("fresh uploads of one path with one id from several sockets at once: the last to open wins, the others are told their partial file was replaced", async () => {
  await using first = await connect(server);
  const sockets: TestClient[] = [first];
  for (let i = 0; i < 4; i++) sockets.push(await joinSession(server, first));
  try {
    const outcomes = await Promise.all(sockets.map((socket, k) => uploadFilled(socket, "same.bin", 0x41 + k)));
    const done = outcomes.filter((outcome) => outcome.type === "file.upload.done");
    const failed = outcomes.filter((outcome) => outcome.type === "error");
    expect(done.length).toBeGreaterThanOrEqual(1);
    expect(done.length + failed.length).toBe(sockets.length);
    // Not `exists` with a bare EEXIST: a fresh upload replaces the partial file of its id.
    for (const failure of failed) expect(failure).toMatchObject({ code: "not_found", message: expect.stringContaining("replaced before the commit") });
    const bytes = readFileSync(join(first.hello.workspace, "same.bin"));
    expect(bytes.length).toBe(CHUNK * CHUNKS);
    expect(new Set(bytes).size).toBe(1);
    expect(readdirSync(first.hello.workspace)).toEqual(["same.bin"]);
  } finally {
    for (const socket of sockets.slice(1)) await socket[Symbol.asyncDispose]();
  }
});
