/**
 * Audit of issue 5, point 2 (stable error codes): a path component past the filesystem's NAME_MAX
 * (255 bytes) is `bad_message`, as docs/PROTOCOL.md (Files: Paths) now says; it was undocumented.
 * Unicode names are bytes to the filesystem: NFC and NFD spellings are different names.
 */
import { describe, expect, test } from "bun:test";
import { useSharedServer } from "../helpers/shared-server.ts";
import type { ServerMessage } from "../../src/protocol/index.ts";

describe("path components and unicode names", () => {
  const shared = useSharedServer();
  let round = 0;
  const request = async (message: Record<string, unknown>): Promise<ServerMessage> => {
    const id = `n${round++}`;
    shared.client.send({ ...message, id });
    return shared.client.next((reply) => "id" in reply && reply.id === id);
  };

  test("a component of 255 bytes is written; one of 256 bytes, in ASCII or UTF-8, is bad_message for every request", async () => {
    expect(await request({ type: "file.write", path: "x".repeat(255), data: "1" })).toMatchObject({ type: "file.write.result" });
    for (const name of ["x".repeat(256), "é".repeat(128), `d/${"y".repeat(256)}/f`]) {
      for (const message of [
        { type: "file.write", path: name, data: "1" },
        { type: "file.stat", path: name },
        { type: "file.read", path: name },
        { type: "file.mkdir", path: name, parents: true },
        { type: "file.remove", path: name },
      ]) {
        expect(await request(message)).toMatchObject({ type: "error", code: "bad_message" });
      }
    }
  });

  test("names in any script round-trip, and NFC and NFD spellings are two names", async () => {
    const name = "日本語/ファイル 😀.txt";
    expect(await request({ type: "file.write", path: name, data: "uni" })).toMatchObject({ type: "file.write.result", entry: { path: name } });
    expect(await request({ type: "file.read", path: name })).toMatchObject({ type: "file.read.result", data: "uni" });
    expect(await request({ type: "file.write", path: "caf\u00e9", data: "nfc" })).toMatchObject({ type: "file.write.result" });
    expect(await request({ type: "file.read", path: "cafe\u0301" })).toMatchObject({ type: "error", code: "not_found" });
  });
});
