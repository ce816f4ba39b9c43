import { afterAll, beforeAll, expect, test } from "bun:test";
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

test("appends from several sockets racing to create the same files all land: no line is lost", async () => {
  await using first = await connect(server);
  const sockets: TestClient[] = [first];
  for (let i = 0; i < 4; i++) sockets.push(await joinSession(server, first));
  const files = 20;
  const appendsPerSocket = 3;
  try {
    // Every socket appends to every file at once, so the first append of each file races across sockets.
    await Promise.all(
      sockets.map(async (socket, k) => {
        for (let f = 0; f < files; f++) {
          for (let i = 0; i < appendsPerSocket; i++) {
            socket.send({ type: "file.write", id: `a${f}-${i}`, path: `logs/f${f}.log`, data: `${k}:${i}\n`, ifExists: "append" });
          }
        }
        for (let f = 0; f < files; f++) {
          for (let i = 0; i < appendsPerSocket; i++) expect(await replyOf(socket, `a${f}-${i}`)).toMatchObject({ type: "file.write.result" });
        }
      }),
    );
    const expected = sockets.flatMap((_, k) => Array.from({ length: appendsPerSocket }, (_, i) => `${k}:${i}`)).sort();
    for (let f = 0; f < files; f++) {
      const read = await request<Extract<ServerMessage, { type: "file.read.result" }>>(first, { type: "file.read", id: `r${f}`, path: `logs/f${f}.log` });
      expect({ file: f, lines: read.data.trim().split("\n").sort() }).toEqual({ file: f, lines: expected });
    }
  } finally {
    for (const socket of sockets.slice(1)) await socket[Symbol.asyncDispose]();
  }
});

test("an append that creates a file gives it the mode asked, the sandbox's owner, and no temporary file is left", async () => {
  await using client = await connect(server);
  const owner = client.hello.sandbox.policy?.runAs ?? { uid: process.getuid!(), gid: process.getgid!() };
  const created = await request(client, { type: "file.write", id: "a", path: "new.log", data: "one\n", ifExists: "append", mode: 0o640 });
  expect(created).toMatchObject({ type: "file.write.result", entry: { path: "new.log", type: "file", size: 4, mode: 0o640, nlink: 1, uid: owner.uid, gid: owner.gid } });
  const appended = await request(client, { type: "file.write", id: "b", path: "new.log", data: "two\n", ifExists: "append" });
  expect(appended).toMatchObject({ type: "file.write.result", entry: { size: 8, mode: 0o640 } });
  const run = await client.exec({ id: "e", cmd: "cat new.log && echo three >> new.log && ls -A" });
  expect(run.stdout).toBe("one\ntwo\nnew.log\n");
  expect(await request(client, { type: "file.read", id: "r", path: "new.log" })).toMatchObject({ data: "one\ntwo\nthree\n" });
});
