import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ErrorCode, FileEntry, ServerMessage } from "../../src/protocol/index.ts";
import { useSharedServer } from "../helpers/shared-server.ts";

/** A directory outside every workspace, which symlinks in the workspace point at. */
const outside = realpathSync(mkdtempSync(join(tmpdir(), "bunker-outside-")));
afterAll(() => rmSync(outside, { recursive: true, force: true }));

/** The entry the server reports for a path of the workspace, from the host's own lstat. */
function entryOf(workspace: string, path: string): FileEntry {
  const stats = lstatSync(join(workspace, path));
  return {
    path,
    name: path.split("/").at(-1)!,
    type: stats.isDirectory() ? "directory" : "file",
    size: stats.size,
    mode: stats.mode & 0o7777,
    mtimeMs: Math.trunc(stats.mtimeMs),
    uid: stats.uid,
    gid: stats.gid,
    nlink: stats.nlink,
  };
}

describe("paths that name directories, through a real server", () => {
  const shared = useSharedServer();
  let workspace = "";
  let next = 0;
  beforeAll(() => {
    workspace = shared.client.hello.workspace;
    mkdirSync(join(workspace, "d"));
    writeFileSync(join(workspace, "a.txt"), "A");
    symlinkSync("d", join(workspace, "in"));
    symlinkSync(join(workspace, "d"), join(workspace, "abs-in"));
    symlinkSync("a.txt", join(workspace, "to-file"));
    symlinkSync("nothing-here", join(workspace, "dangling"));
    symlinkSync(outside, join(workspace, "out"));
  });

  /** Sends a request and waits for its reply (or error), given back without its id. */
  const ask = async (message: Record<string, unknown>): Promise<unknown> => {
    const id = String(++next);
    shared.client.send({ ...message, id });
    const { id: _, ...reply } = (await shared.client.next((answer: ServerMessage) => "id" in answer && answer.id === id)) as ServerMessage & { id: string };
    return reply;
  };
  const failed = (code: ErrorCode, message: string) => ({ type: "error", code, message });

  test("mkdir with parents accepts a symlink to a directory inside the workspace, as mkdir -p does, and answers the directory", async () => {
    const existing = { type: "file.mkdir.result", entry: entryOf(workspace, "d"), created: false };
    expect(await ask({ type: "file.mkdir", path: "in", parents: true })).toEqual(existing);
    expect(await ask({ type: "file.mkdir", path: "abs-in", parents: true })).toEqual(existing);
    expect(await ask({ type: "file.mkdir", path: "in/", parents: true })).toEqual(existing);
    expect(await ask({ type: "file.mkdir", path: "in/made/deeper", parents: true })).toEqual({
      type: "file.mkdir.result",
      entry: entryOf(workspace, "d/made/deeper"),
      created: true,
    });
    expect(await ask({ type: "file.mkdir", path: "in" })).toEqual(failed("exists", 'path: "in" exists already (as a symlink)'));
    expect(lstatSync(join(workspace, "in")).isSymbolicLink()).toBe(true);
  });

  test("mkdir with parents still refuses a symlink out of the workspace, to a file or to nothing, and says which", async () => {
    const notFollowed = (path: string, why: string) =>
      failed("exists", `path: ${JSON.stringify(path)} exists already as a symlink that ${why}; mkdir follows a symlink only to a directory inside the workspace`);
    expect(await ask({ type: "file.mkdir", path: "out", parents: true })).toEqual(notFollowed("out", "leads outside the workspace"));
    expect(await ask({ type: "file.mkdir", path: "to-file", parents: true })).toEqual(notFollowed("to-file", "leads to a file"));
    expect(await ask({ type: "file.mkdir", path: "dangling", parents: true })).toEqual(notFollowed("dangling", "leads to nothing"));
    expect(await ask({ type: "file.mkdir", path: "out/x", parents: true })).toMatchObject({ type: "error", code: "path_outside_workspace" });
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(workspace, "nothing-here"))).toBe(false);
  });

  test("a trailing slash on a file is not_directory for read, write, stat, remove, move, download and upload, and the file stays as it was", async () => {
    const requests = [
      { type: "file.read", path: "a.txt/" },
      { type: "file.read", path: "a.txt/." },
      { type: "file.write", path: "a.txt/", data: "B" },
      { type: "file.write", path: "a.txt/", data: "B", ifExists: "append" },
      { type: "file.stat", path: "a.txt/" },
      { type: "file.remove", path: "a.txt/" },
      { type: "file.move", from: "a.txt/", to: "b.txt" },
      { type: "file.download", path: "a.txt/" },
      { type: "file.upload", path: "a.txt/", size: 1 },
    ];
    for (const request of requests) {
      expect({ request, reply: await ask(request) }).toMatchObject({ request, reply: { type: "error", code: "not_directory" } });
    }
    expect(await ask({ type: "file.read", path: "a.txt/" })).toEqual(failed("not_directory", 'path: "a.txt/" ends in /, but a.txt is not a directory'));
    expect(await ask({ type: "file.read", path: "to-file/" })).toEqual(failed("not_directory", 'path: "to-file/" ends in /, but a.txt is not a directory'));
    expect(await ask({ type: "file.move", from: "a.txt", to: "b.txt/" })).toEqual(failed("not_directory", 'to: "b.txt/" ends in /, but from: "a.txt" is not a directory'));
    expect(readdirSync(workspace).filter((name) => name.endsWith(".txt"))).toEqual(["a.txt"]);
    expect(readFileSync(join(workspace, "a.txt"), "utf8")).toBe("A");
  });

  test("a trailing slash on a directory, or on a symlink to one, names the directory, and a file is never written there", async () => {
    expect(await ask({ type: "file.stat", path: "d/" })).toEqual({ type: "file.stat.result", entry: entryOf(workspace, "d") });
    // As stat(2): the slash resolves the symlink; without it the link itself is described.
    expect(await ask({ type: "file.stat", path: "in/" })).toEqual({ type: "file.stat.result", entry: entryOf(workspace, "d") });
    expect(await ask({ type: "file.read", path: "d/" })).toEqual(failed("is_directory", 'path: "d/" is a directory'));
    const notAFile = (path: string) => failed("is_directory", `path: ${JSON.stringify(path)} ends in /, so it names a directory, never a file`);
    expect(await ask({ type: "file.write", path: "new/", data: "x" })).toEqual(notAFile("new/"));
    expect(await ask({ type: "file.upload", path: "new/", size: 1 })).toEqual(notAFile("new/"));
    expect(existsSync(join(workspace, "new"))).toBe(false);
    // remove acts on names and never goes through a symlink, slash or not.
    expect(await ask({ type: "file.remove", path: "in/", recursive: true })).toEqual(
      failed("not_directory", 'path: "in/" ends in /, but in is a symlink, which this request does not follow'),
    );
    expect(await ask({ type: "file.mkdir", path: "e/" })).toMatchObject({ type: "file.mkdir.result", created: true, entry: { path: "e" } });
    expect(await ask({ type: "file.move", from: "e/", to: "f/" })).toMatchObject({ type: "file.move.result", entry: { path: "f" } });
    expect(await ask({ type: "file.remove", path: "f/", recursive: true })).toEqual({ type: "file.remove.result" });
    expect(statSync(join(workspace, "d")).isDirectory()).toBe(true);
  });
});
