import { describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ErrorCode } from "../../src/protocol/index.ts";
import { procFdScheme } from "../../src/files/platform/linux-proc-fd.ts";
import { createLexicalScheme } from "../../src/files/platform/lexical.ts";
import { createHarness, type Received } from "./helpers/harness.ts";

const SCHEMES = [procFdScheme, createLexicalScheme(process.platform)].filter((scheme) => scheme.name !== "proc-fd" || process.platform === "linux");

const error = (id: string, code: ErrorCode): Received => ({ type: "error", id, code, message: expect.any(String) });

describe.each(SCHEMES)("with the $name path scheme", (pathScheme) => {
  const harness = (options: Parameters<typeof createHarness>[0] = {}) => createHarness({ pathScheme, ...options });

  test("stat describes a file, a directory, a symlink (not followed) and the workspace with its usage", async () => {
    using h = harness({ quotaBytes: 1000 });
    writeFileSync(join(h.workspace, "f.txt"), "hello");
    chmodSync(join(h.workspace, "f.txt"), 0o640);
    mkdirSync(join(h.workspace, "d"));
    symlinkSync("/etc", join(h.workspace, "out"));
    const file = statSync(join(h.workspace, "f.txt"));
    expect(await h.request({ type: "file.stat", id: "1", path: "f.txt" })).toEqual({
      type: "file.stat.result",
      id: "1",
      entry: { path: "f.txt", name: "f.txt", type: "file", size: 5, mode: 0o640, mtimeMs: Math.trunc(file.mtimeMs), uid: file.uid, gid: file.gid, nlink: 1 },
    });
    expect(await h.request({ type: "file.stat", id: "2", path: "d" })).toMatchObject({ entry: { path: "d", type: "directory" } });
    expect(await h.request({ type: "file.stat", id: "3", path: "out" })).toMatchObject({ entry: { path: "out", type: "symlink", target: "/etc" } });
    expect(await h.request({ type: "file.stat", id: "4", path: h.workspace })).toMatchObject({
      entry: { path: ".", name: ".", type: "directory" },
      usage: { usedBytes: 5, quotaBytes: 1000 },
    });
    expect(await h.request({ type: "file.stat", id: "5", path: "nope" })).toEqual(error("5", "not_found"));
    expect(await h.request({ type: "file.stat", id: "6", path: "f.txt/x" })).toEqual(error("6", "not_directory"));
  });

  test("list walks depth levels in pre-order with sorted names, lists symlinks without descending, and truncates", async () => {
    using h = harness({ limits: { maxListEntries: 4 } });
    mkdirSync(join(h.workspace, "b/c"), { recursive: true });
    writeFileSync(join(h.workspace, "b/c/deep"), "");
    writeFileSync(join(h.workspace, "a"), "1");
    symlinkSync("b", join(h.workspace, "link"));
    const paths = (reply: Received) => (reply as { entries: { path: string }[] }).entries.map((entry) => entry.path);
    const one = await h.request({ type: "file.list", id: "1", path: "" });
    expect(paths(one)).toEqual(["a", "b", "link"]);
    expect(one).toMatchObject({ truncated: false });
    const two = await h.request({ type: "file.list", id: "2", path: ".", depth: 2 });
    expect(paths(two)).toEqual(["a", "b", "b/c", "link"]);
    const all = await h.request({ type: "file.list", id: "3", path: ".", depth: 64 });
    expect(paths(all)).toEqual(["a", "b", "b/c", "b/c/deep"]);
    expect(all).toMatchObject({ truncated: true });
    expect(paths(await h.request({ type: "file.list", id: "4", path: "link" }))).toEqual(["b/c"]);
    expect(await h.request({ type: "file.list", id: "5", path: "a" })).toEqual(error("5", "not_directory"));
    expect(await h.request({ type: "file.list", id: "6", path: "missing" })).toEqual(error("6", "not_found"));
  });

  test("read returns text or base64 with offset, length and eof, and refuses what it cannot carry", async () => {
    using h = harness({ limits: { maxMessageBytes: 8 } });
    writeFileSync(join(h.workspace, "t"), "héllo");
    writeFileSync(join(h.workspace, "big"), "0123456789");
    expect(await h.request({ type: "file.read", id: "1", path: "t" })).toEqual({
      type: "file.read.result", id: "1", offset: 0, bytes: 6, size: 6, eof: true, encoding: "utf8", data: "héllo",
    });
    expect(await h.request({ type: "file.read", id: "2", path: "big", offset: 2, length: 3, encoding: "base64" })).toEqual({
      type: "file.read.result", id: "2", offset: 2, bytes: 3, size: 10, eof: false, encoding: "base64", data: Buffer.from("234").toString("base64"),
    });
    expect(await h.request({ type: "file.read", id: "3", path: "big", offset: 7, length: 8 })).toMatchObject({ bytes: 3, eof: true, data: "789" });
    expect(await h.request({ type: "file.read", id: "4", path: "big", offset: 10 })).toMatchObject({ bytes: 0, eof: true, data: "" });
    expect(await h.request({ type: "file.read", id: "5", path: "big", offset: 11 })).toEqual(error("5", "bad_message"));
    expect(await h.request({ type: "file.read", id: "6", path: "big" })).toEqual(error("6", "too_large"));
    expect(await h.request({ type: "file.read", id: "7", path: "big", length: 9 })).toEqual(error("7", "too_large"));
    // A length past the end asks only for what is there, as read(2) does, however large.
    expect(await h.request({ type: "file.read", id: "7b", path: "big", offset: 7, length: 1_000_000 })).toMatchObject({ bytes: 3, eof: true, data: "789" });
    expect(await h.request({ type: "file.read", id: "8", path: "." })).toEqual(error("8", "is_directory"));
    expect(await h.request({ type: "file.read", id: "9", path: "nope" })).toEqual(error("9", "not_found"));
  });

  test("write creates parents, replaces atomically (a new inode, the old mode kept), and leaves no temporary file", async () => {
    using h = harness();
    expect(await h.request({ type: "file.write", id: "1", path: "a/b/f", data: "one" })).toMatchObject({
      type: "file.write.result", id: "1", entry: { path: "a/b/f", type: "file", size: 3, mode: 0o644 },
    });
    expect(statSync(join(h.workspace, "a/b")).mode & 0o7777).toBe(0o755);
    chmodSync(join(h.workspace, "a/b/f"), 0o600);
    const before = statSync(join(h.workspace, "a/b/f")).ino;
    expect(await h.request({ type: "file.write", id: "2", path: "a/b/f", data: "AAEC", encoding: "base64" })).toMatchObject({ entry: { size: 3, mode: 0o600 } });
    expect(readFileSync(join(h.workspace, "a/b/f"))).toEqual(Buffer.from([0, 1, 2]));
    expect(statSync(join(h.workspace, "a/b/f")).ino).not.toBe(before);
    expect(await h.request({ type: "file.write", id: "3", path: "a/b/f", data: "x", mode: 0o751 })).toMatchObject({ entry: { mode: 0o751 } });
    expect(readdirSync(join(h.workspace, "a/b"))).toEqual(["f"]);
  });

  test("write appends, refuses to replace with ifExists fail, and needs parents when told not to create them", async () => {
    using h = harness({ limits: { maxMessageBytes: 16 } });
    await h.request({ type: "file.write", id: "1", path: "log", data: "a", ifExists: "append" });
    await h.request({ type: "file.write", id: "2", path: "log", data: "b", ifExists: "append" });
    expect(readFileSync(join(h.workspace, "log"), "utf8")).toBe("ab");
    expect(await h.request({ type: "file.write", id: "3", path: "log", data: "c", ifExists: "fail" })).toEqual(error("3", "exists"));
    expect(await h.request({ type: "file.write", id: "4", path: "new", data: "c", ifExists: "fail" })).toMatchObject({ entry: { size: 1 } });
    expect(await h.request({ type: "file.write", id: "5", path: "x/y", data: "c", parents: false })).toEqual(error("5", "not_found"));
    mkdirSync(join(h.workspace, "dir"));
    expect(await h.request({ type: "file.write", id: "6", path: "dir", data: "c" })).toEqual(error("6", "is_directory"));
    expect(await h.request({ type: "file.write", id: "7", path: "", data: "c" })).toEqual(error("7", "is_directory"));
    expect(await h.request({ type: "file.write", id: "8", path: "log/x", data: "c" })).toEqual(error("8", "not_directory"));
    expect(await h.request({ type: "file.write", id: "9", path: "big", data: "x".repeat(17) })).toEqual(error("9", "too_large"));
  });

  test("mkdir creates with an exact mode, and with parents accepts what exists as mkdir -p", async () => {
    using h = harness();
    expect(await h.request({ type: "file.mkdir", id: "1", path: "d", mode: 0o777 })).toMatchObject({
      type: "file.mkdir.result", created: true, entry: { path: "d", type: "directory", mode: 0o777 },
    });
    expect(await h.request({ type: "file.mkdir", id: "2", path: "d" })).toEqual(error("2", "exists"));
    expect(await h.request({ type: "file.mkdir", id: "3", path: "d", parents: true })).toMatchObject({ created: false });
    expect(await h.request({ type: "file.mkdir", id: "4", path: "p/q/r" })).toEqual(error("4", "not_found"));
    expect(await h.request({ type: "file.mkdir", id: "5", path: "p/q/r", parents: true })).toMatchObject({ created: true, entry: { path: "p/q/r" } });
    writeFileSync(join(h.workspace, "file"), "");
    expect(await h.request({ type: "file.mkdir", id: "6", path: "file", parents: true })).toEqual(error("6", "exists"));
    expect(await h.request({ type: "file.mkdir", id: "7", path: "file/sub", parents: true })).toEqual(error("7", "not_directory"));
    expect(await h.request({ type: "file.mkdir", id: "8", path: ".", parents: true })).toMatchObject({ created: false, entry: { path: "." } });
  });

  test("a trailing slash asks for a directory: on a file it is not_directory, on a directory it changes nothing", async () => {
    using h = harness();
    writeFileSync(join(h.workspace, "f"), "kept");
    mkdirSync(join(h.workspace, "d"));
    let id = 0;
    for (const message of [
      { type: "file.read", path: "f/" },
      { type: "file.write", path: "f/", data: "x" },
      { type: "file.stat", path: "f/" },
      { type: "file.remove", path: "f/" },
      { type: "file.download", path: "f/" },
      { type: "file.upload", path: "f/" },
    ]) {
      const sent = { ...message, id: String(++id) };
      expect({ message, reply: await h.request(sent) }).toEqual({ message, reply: error(sent.id, "not_directory") });
    }
    expect(readFileSync(join(h.workspace, "f"), "utf8")).toBe("kept");
    expect(await h.request({ type: "file.stat", id: "s", path: "d/" })).toMatchObject({ type: "file.stat.result", entry: { path: "d", type: "directory" } });
    expect(await h.request({ type: "file.list", id: "l", path: "d/" })).toMatchObject({ type: "file.list.result", entries: [] });
  });

  test("move renames files, directories and symlinks themselves, and says why it cannot", async () => {
    using h = harness();
    writeFileSync(join(h.workspace, "a"), "A");
    writeFileSync(join(h.workspace, "b"), "B");
    mkdirSync(join(h.workspace, "d/e"), { recursive: true });
    symlinkSync("/etc/passwd", join(h.workspace, "link"));
    expect(await h.request({ type: "file.move", id: "1", from: "a", to: "c" })).toMatchObject({ type: "file.move.result", entry: { path: "c", type: "file", size: 1 } });
    expect(await h.request({ type: "file.move", id: "2", from: "c", to: "b" })).toEqual(error("2", "exists"));
    expect(await h.request({ type: "file.move", id: "3", from: "c", to: "b", overwrite: true })).toMatchObject({ entry: { path: "b" } });
    expect(readFileSync(join(h.workspace, "b"), "utf8")).toBe("A");
    expect(await h.request({ type: "file.move", id: "4", from: "b", to: "new/dir/b" })).toEqual(error("4", "not_found"));
    expect(await h.request({ type: "file.move", id: "5", from: "b", to: "new/dir/b", parents: true })).toMatchObject({ entry: { path: "new/dir/b" } });
    // Onto itself: nothing to do, as rename(2) does nothing (it was `exists`, a review).
    expect(await h.request({ type: "file.move", id: "self", from: "new/dir/b", to: "new/./dir/b" })).toMatchObject({ type: "file.move.result", entry: { path: "new/dir/b", type: "file", size: 1 } });
    expect(await h.request({ type: "file.move", id: "6", from: "d", to: "d/e/inside" })).toEqual(error("6", "bad_message"));
    expect(await h.request({ type: "file.move", id: "7", from: "missing", to: "x" })).toEqual(error("7", "not_found"));
    expect(await h.request({ type: "file.move", id: "8", from: ".", to: "x" })).toEqual(error("8", "bad_message"));
    // The workspace as `to` is refused as it is as `from` (it was `exists`, where the spec says bad_message).
    expect(await h.request({ type: "file.move", id: "8b", from: "link", to: ".", overwrite: true })).toEqual(error("8b", "bad_message"));
    expect(await h.request({ type: "file.move", id: "9", from: "link", to: "moved-link" })).toMatchObject({ entry: { type: "symlink", target: "/etc/passwd" } });
    expect(await h.request({ type: "file.move", id: "10", from: "new/dir/b", to: "d", overwrite: true })).toEqual(error("10", "is_directory"));
    expect(await h.request({ type: "file.move", id: "11", from: "d", to: "../x" })).toEqual(error("11", "path_outside_workspace"));
  });

  test("remove deletes files and symlinks themselves, and directories only when recursive", async () => {
    using h = harness();
    mkdirSync(join(h.workspace, "d/e/f"), { recursive: true });
    writeFileSync(join(h.workspace, "d/e/f/g"), "");
    writeFileSync(join(h.workspace, "file"), "");
    symlinkSync(join(h.workspace, "file"), join(h.workspace, "link"));
    expect(await h.request({ type: "file.remove", id: "1", path: "link" })).toEqual({ type: "file.remove.result", id: "1" });
    expect(existsSync(join(h.workspace, "file"))).toBe(true);
    expect(await h.request({ type: "file.remove", id: "2", path: "file" })).toEqual({ type: "file.remove.result", id: "2" });
    expect(await h.request({ type: "file.remove", id: "3", path: "file" })).toEqual(error("3", "not_found"));
    expect(await h.request({ type: "file.remove", id: "4", path: "d" })).toEqual(error("4", "is_directory"));
    expect(await h.request({ type: "file.remove", id: "5", path: "d", recursive: true })).toEqual({ type: "file.remove.result", id: "5" });
    expect(readdirSync(h.workspace)).toEqual([]);
    expect(await h.request({ type: "file.remove", id: "6", path: ".", recursive: true })).toEqual(error("6", "bad_message"));
  });

  test("files and directories the server creates belong to the owner, when one is set", async () => {
    using h = harness({ owner: { uid: 65534, gid: 65534 } });
    await h.request({ type: "file.write", id: "1", path: "p/f", data: "x" });
    await h.request({ type: "file.mkdir", id: "2", path: "q/r", parents: true });
    for (const path of ["p", "p/f", "q", "q/r"]) {
      const stats = lstatSync(join(h.workspace, path));
      expect({ path, uid: stats.uid, gid: stats.gid }).toEqual({ path, uid: 65534, gid: 65534 });
    }
    expect(await h.request({ type: "file.stat", id: "3", path: "p/f" })).toMatchObject({ entry: { uid: 65534, gid: 65534 } });
  });

  test("without an owner, a file replaced by a write or an upload keeps the owner it had", async () => {
    using h = harness();
    for (const name of ["w", "u"]) {
      writeFileSync(join(h.workspace, name), "old");
      chownSync(join(h.workspace, name), 1234, 4321);
    }
    expect(await h.request({ type: "file.write", id: "1", path: "w", data: "new" })).toMatchObject({ entry: { uid: 1234, gid: 4321 } });
    await h.request({ type: "file.upload", id: "2", path: "u" });
    h.handler.handle({ type: "file.upload.chunk", id: "2", offset: 0, data: "", eof: true });
    expect(await h.next((reply) => reply.id === "2")).toMatchObject({ type: "file.upload.done", entry: { uid: 1234, gid: 4321, size: 0 } });
  });

  test("a quota refuses writes and appends that would pass it", async () => {
    using h = harness({ quotaBytes: 10 });
    expect(await h.request({ type: "file.write", id: "1", path: "a", data: "12345678" })).toMatchObject({ type: "file.write.result" });
    // The refusal names the file, as every other file error does.
    expect(await h.request({ type: "file.write", id: "2", path: "b", data: "123" })).toEqual({
      type: "error",
      id: "2",
      code: "quota_exceeded",
      message: `path: "b": writing 3 bytes would bring the workspace to 11 bytes, past its quota of 10`,
    });
    expect(await h.request({ type: "file.write", id: "3", path: "a", data: "1234567890" })).toMatchObject({ type: "file.write.result" });
    expect(await h.request({ type: "file.write", id: "4", path: "a", data: "1", ifExists: "append" })).toEqual(error("4", "quota_exceeded"));
    expect(await h.request({ type: "file.stat", id: "5", path: "." })).toMatchObject({ usage: { usedBytes: 10, quotaBytes: 10 } });
    expect(readdirSync(h.workspace)).toEqual(["a"]);
  });
});

test("parents are created for a path deeper than the walk's retry budget", async () => {
  using h = createHarness();
  const deep = Array.from({ length: 150 }, (_, index) => `d${index}`).join("/");
  expect(await h.request({ type: "file.write", id: "1", path: `${deep}/f`, data: "x" })).toMatchObject({ type: "file.write.result", entry: { path: `${deep}/f` } });
});

test("requests run in arrival order, so a read sent right after a write sees it", async () => {
  using h = createHarness();
  h.handler.handle({ type: "file.write", id: "w", path: "f", data: "first" });
  h.handler.handle({ type: "file.write", id: "a", path: "f", data: "+second", ifExists: "append" });
  h.handler.handle({ type: "file.read", id: "r", path: "f" });
  expect(await h.next((reply) => reply.id === "r")).toMatchObject({ type: "file.read.result", data: "first+second" });
});

test("past the queue's length, requests are refused with limit_exceeded until replies drain it", async () => {
  using h = createHarness({ limits: { maxQueuedRequests: 2 } });
  for (const id of ["1", "2", "3"]) h.handler.handle({ type: "file.stat", id, path: "." });
  expect(await h.next((reply) => reply.id === "3")).toMatchObject({ type: "error", code: "limit_exceeded" });
  await h.next((reply) => reply.id === "2");
  expect(await h.request({ type: "file.stat", id: "4", path: "." })).toMatchObject({ type: "file.stat.result" });
});

test("names that are not UTF-8 (from a tar archive, say) are listed decoded, counted, and removed with their directory", async () => {
  using h = createHarness();
  const dir = join(h.workspace, "from-tar");
  mkdirSync(dir);
  // node:fs takes a name of bytes as it is: "bad\xffname", which no UTF-8 string can spell.
  const bad = Buffer.concat([Buffer.from(`${dir}/bad`), Buffer.from([0xff]), Buffer.from("name")]);
  writeFileSync(bad, "12345");
  mkdirSync(Buffer.concat([Buffer.from(`${dir}/sub`), Buffer.from([0xfe])]));
  writeFileSync(join(dir, "ok"), "x");
  const listed = (await h.request({ type: "file.list", id: "l", path: "from-tar" })) as { entries: { path: string; type: string }[] };
  expect(listed.entries.map((entry) => [entry.path, entry.type])).toEqual([
    ["from-tar/bad\ufffdname", "file"],
    ["from-tar/ok", "file"],
    ["from-tar/sub\ufffd", "directory"],
  ]);
  const stat = (await h.request({ type: "file.stat", id: "s", path: "." })) as { usage: { usedBytes: number } };
  expect(stat.usage.usedBytes).toBe(6);
  expect(await h.request({ type: "file.remove", id: "r", path: "from-tar", recursive: true })).toMatchObject({ type: "file.remove.result" });
  expect(existsSync(dir)).toBe(false);
});
