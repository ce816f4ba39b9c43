import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, type Session } from "../../src/client/index.ts";
import type { FileEntry } from "../../src/protocol/index.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server[Symbol.asyncDispose]();
});

/**
 * What the client library should offer for files: the issue (5, point 1) asks for the file messages
 * "in docs/PROTOCOL.md and in the client library", and E2B users reach for files.read/write/list/
 * makeDir/rename/remove/exists/getInfo/watchDir. The names below are a proposal, shaped on both.
 */
interface SessionFiles {
  read(path: string, options?: { offset?: number; length?: number }): Promise<string>;
  readBytes(path: string, options?: { offset?: number; length?: number }): Promise<Uint8Array>;
  /** Picks file.write or, past what one frame carries, file.upload. */
  write(path: string, data: string | Uint8Array, options?: { ifExists?: "overwrite" | "fail" | "append"; mode?: number }): Promise<FileEntry>;
  list(path: string, options?: { depth?: number }): Promise<FileEntry[]>;
  stat(path: string): Promise<FileEntry>;
  exists(path: string): Promise<boolean>;
  /** true when it made the directory, false when one was there (parents by default, as E2B's makeDir). */
  mkdir(path: string, options?: { mode?: number }): Promise<boolean>;
  move(from: string, to: string, options?: { overwrite?: boolean }): Promise<FileEntry>;
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;
  /** file.upload with its credit window; resumes after a reconnect. */
  upload(path: string, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<FileEntry>;
  download(path: string, options?: { offset?: number }): AsyncIterable<Uint8Array>;
  watch(path: string, options?: { recursive?: boolean }): Promise<AsyncIterable<{ type: "create" | "modify" | "remove"; path: string }> & { close(): Promise<void> }>;
}

// Bug: the client library has no file methods at all (docs/CLIENT.md, "File operations": "not in
// the library yet"); a user must hand-build file.* messages, ids, the upload credit window and
// chunk reassembly. Fix outside src/files: src/client/ gains `session.files` (src/client/files.ts
// over PendingRequests, one file per concern: requests, upload, download, watch), typed from
// src/protocol/file-messages.ts, failures as BunkerError with the server's code; docs/CLIENT.md
// documents it. Unskip then (and drop the cast below).
test.skip("the client library writes, reads, lists, stats, moves, removes, uploads, downloads and watches files", async () => {
  await using session: Session = await connect(server.url, { token: server.token! });
  const files = (session as unknown as { files: SessionFiles }).files;
  expect(await files.exists("notes/a.txt")).toBe(false);
  expect(await files.write("notes/a.txt", "hello")).toMatchObject({ path: "notes/a.txt", size: 5 });
  expect(await files.read("notes/a.txt")).toBe("hello");
  expect(await files.exists("notes/a.txt")).toBe(true);
  expect(await files.mkdir("notes/sub/deeper")).toBe(true);
  expect(await files.mkdir("notes/sub/deeper")).toBe(false);
  expect((await files.list("notes", { depth: 2 })).map((entry) => entry.path)).toEqual(["notes/a.txt", "notes/sub", "notes/sub/deeper"]);
  expect(await files.move("notes/a.txt", "notes/b.txt")).toMatchObject({ path: "notes/b.txt" });
  expect((await files.stat("notes/b.txt")).size).toBe(5);
  await expect(files.read("notes/a.txt")).rejects.toMatchObject({ code: "not_found" });

  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
  expect(await files.upload("big.bin", big)).toMatchObject({ size: big.length });
  const parts: Uint8Array[] = [];
  for await (const part of files.download("big.bin")) parts.push(part);
  expect(Buffer.concat(parts).equals(Buffer.from(big))).toBe(true);

  const watch = await files.watch("notes", { recursive: true });
  await files.write("notes/sub/new.txt", "x");
  for await (const event of watch) if (event.path === "notes/sub/new.txt") break;
  await watch.close();
  await files.remove("notes", { recursive: true });
  expect(await files.exists("notes")).toBe(false);
});
