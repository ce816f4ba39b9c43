// The client library's file methods beyond the round trip: sizes past one message, streams, errors.
import { expect, test } from "bun:test";
import { connect } from "../../src/client/index.ts";
import { useSharedSession } from "../helpers/shared-session.ts";
import { createWireTap } from "../helpers/tapped-websocket.ts";
import { patternedBytes } from "../helpers/patterned-bytes.ts";

const shared = useSharedSession();

test("a write larger than one message goes as an upload, and a read larger than one reply comes back whole", async () => {
  const data = patternedBytes(3 * 1024 * 1024 + 17);
  expect(await shared.session.files.write("large/w.bin", data)).toMatchObject({ path: "large/w.bin", size: data.byteLength });
  expect(Buffer.from(await shared.session.files.readBytes("large/w.bin")).equals(Buffer.from(data))).toBe(true);
  // A range that spans the one-read cap.
  const part = await shared.session.files.readBytes("large/w.bin", { offset: 1000, length: 2 * 1024 * 1024 });
  expect(Buffer.from(part).equals(Buffer.from(data.subarray(1000, 1000 + 2 * 1024 * 1024)))).toBe(true);
});

test("a large append lands after what was there, in order", async () => {
  await shared.session.files.write("large/log.txt", "head\n");
  const tail = "x".repeat(600 * 1024);
  expect((await shared.session.files.write("large/log.txt", tail, { ifExists: "append" })).size).toBe(5 + tail.length);
  expect(await shared.session.files.read("large/log.txt")).toBe(`head\n${tail}`);
});

test("an upload from an async iterable of odd-sized chunks is byte-exact", async () => {
  const whole = patternedBytes(1024 * 1024 + 333, 5);
  async function* pieces() {
    for (let start = 0; start < whole.byteLength; start += 100_003) yield whole.subarray(start, start + 100_003);
  }
  expect((await shared.session.files.upload("large/it.bin", pieces())).size).toBe(whole.byteLength);
  expect(Buffer.from(await shared.session.files.readBytes("large/it.bin")).equals(Buffer.from(whole))).toBe(true);
});

test("breaking out of a download cancels it, and the session goes on", async () => {
  await shared.session.files.upload("large/d.bin", patternedBytes(4 * 1024 * 1024));
  let received = 0;
  for await (const part of shared.session.files.download("large/d.bin")) {
    received += part.byteLength;
    break;
  }
  expect(received).toBeGreaterThan(0);
  const rest = [];
  for await (const part of shared.session.files.download("large/d.bin", { offset: 4 * 1024 * 1024 - 10 })) rest.push(...part);
  expect(rest).toEqual([...patternedBytes(4 * 1024 * 1024).subarray(-10)]);
});

test("failures reject with the server's code", async () => {
  await expect(shared.session.files.read("../outside")).rejects.toMatchObject({ code: "path_outside_workspace" });
  await expect(shared.session.files.read("large")).rejects.toMatchObject({ code: "is_directory" });
  await expect(shared.session.files.write("large/w.bin", "x", { ifExists: "fail" })).rejects.toMatchObject({ code: "exists" });
  await expect(shared.session.files.mkdir("large/w.bin/sub")).rejects.toMatchObject({ code: "not_directory" });
  await expect(shared.session.files.remove("large")).rejects.toMatchObject({ code: "is_directory" });
  await expect(shared.session.files.watch("no/such/dir")).rejects.toMatchObject({ code: "not_found" });
  expect(await shared.session.files.exists("large/w.bin")).toBe(true);
});

test("a command sees what the library wrote, and the library reads what a command wrote", async () => {
  await shared.session.files.write("shared/from-api.txt", "api\n");
  const handle = shared.session.exec(["sh", "-c", "cat shared/from-api.txt; echo cmd > shared/from-cmd.txt"]);
  expect(await handle.stdout.readAllText()).toBe("api\n");
  await handle.exited;
  expect(await shared.session.files.read("shared/from-cmd.txt")).toBe("cmd\n");
});

test("closing a watch twice, or from two places at once, sends one unwatch", async () => {
  const tap = createWireTap();
  await using watcher = await connect(shared.server.url, { token: shared.server.token!, tokenVia: "subprotocol", WebSocket: tap.WebSocket });
  await watcher.files.mkdir("watched");
  const watch = await watcher.files.watch("watched");
  await Promise.all([watch.close(), watch.close()]);
  await watch.close();
  // Answered after anything the closes caused.
  expect(await watcher.files.exists("watched")).toBe(true);
  expect(tap.sent.filter((message) => message["type"] === "file.unwatch")).toHaveLength(1);
});
