import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { spawnSync } from "node:child_process";
import type { ErrorCode } from "../../src/protocol/index.ts";
import { procFdScheme } from "../../src/files/platform/linux-proc-fd.ts";
import { createLexicalScheme } from "../../src/files/platform/lexical.ts";
import { createHarness, type Harness, type Received } from "./helpers/harness.ts";

const SCHEMES = [procFdScheme, createLexicalScheme(process.platform)].filter((scheme) => scheme.name !== "proc-fd" || process.platform === "linux");

const outside = realpathSync(mkdtempSync(join(tmpdir(), "bunker-outside-")));
const workspace = realpathSync(mkdtempSync(join(tmpdir(), "bunker-confined-")));
let unixSocket: { stop(): void } | undefined;
let hasDevice = false;

beforeAll(() => {
  writeFileSync(join(outside, "secret"), "SECRET");
  mkdirSync(join(outside, "sub"));
  mkdirSync(join(workspace, "d"));
  writeFileSync(join(workspace, "d", "f"), "inside");
  symlinkSync(outside, join(workspace, "out"));
  symlinkSync("/", join(workspace, "root"));
  symlinkSync(join(outside, "secret"), join(workspace, "out-file"));
  symlinkSync(outside, join(workspace, "d", "inner-out"));
  symlinkSync(`../${basename(outside)}`, join(workspace, "rel-out"));
  symlinkSync("../..", join(workspace, "d", "up"));
  symlinkSync("d", join(workspace, "in"));
  symlinkSync(join(workspace, "d"), join(workspace, "abs-in"));
  symlinkSync("loop2", join(workspace, "loop1"));
  symlinkSync("loop1", join(workspace, "loop2"));
  spawnSync("mkfifo", [join(workspace, "fifo")]);
  linkSync(join(outside, "secret"), join(workspace, "hard"));
  unixSocket = Bun.listen({ unix: join(workspace, "sock"), socket: { data() {} } });
  hasDevice = spawnSync("mknod", [join(workspace, "dev"), "c", "1", "3"]).status === 0;
});

afterAll(() => {
  unixSocket?.stop();
  rmSync(workspace, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** The outside directory exactly as it was made: nothing read into it, written, created or removed. */
function expectOutsideUntouched(): void {
  expect(readdirSync(outside).sort()).toEqual(["secret", "sub"]);
  expect(readdirSync(join(outside, "sub"))).toEqual([]);
  expect(readFileSync(join(outside, "secret"), "utf8")).toBe("SECRET");
}

const refused = (code: ErrorCode) => ({ type: "error", code, message: expect.any(String) });

describe.each(SCHEMES)("with the $name path scheme", (pathScheme) => {
  let h: Harness;
  beforeAll(() => {
    h = createHarness({ pathScheme, workspace });
  });
  afterAll(() => h[Symbol.dispose]());
  let next = 0;
  const ask = (message: Record<string, unknown> & { type: string }): Promise<Received> => h.request({ ...message, id: String(++next) });

  test("symlinks out of the workspace are refused at the first, a middle and the last component, for reads", async () => {
    for (const path of ["out/secret", "root/etc/passwd", "d/inner-out/secret", "rel-out/secret", "d/up/x", "out-file", `${workspace}/out/secret`]) {
      expect({ path, reply: await ask({ type: "file.read", path }) }).toMatchObject({ path, reply: refused("path_outside_workspace") });
    }
    expect(await ask({ type: "file.download", path: "out-file" })).toMatchObject(refused("path_outside_workspace"));
    expect(await ask({ type: "file.stat", path: "out/secret" })).toMatchObject(refused("path_outside_workspace"));
    expect(await ask({ type: "file.list", path: "out" })).toMatchObject(refused("path_outside_workspace"));
    expect(await ask({ type: "file.list", path: "root" })).toMatchObject(refused("path_outside_workspace"));
    expect(await ask({ type: "file.watch", path: "out" })).toMatchObject(refused("path_outside_workspace"));
  });

  test("symlinks out of the workspace are refused for every write, and nothing outside changes", async () => {
    const attempts: Record<string, unknown>[] = [
      { type: "file.write", path: "out/new", data: "x" },
      { type: "file.write", path: "out-file", data: "x" },
      { type: "file.write", path: "out-file", data: "x", ifExists: "append" },
      { type: "file.write", path: "d/inner-out/sub/new", data: "x" },
      { type: "file.write", path: "out/deep/er/new", data: "x", parents: true },
      { type: "file.mkdir", path: "out/x" },
      { type: "file.mkdir", path: "out/x/y", parents: true },
      { type: "file.move", from: "out/secret", to: "stolen" },
      { type: "file.move", from: "d/f", to: "out/f" },
      { type: "file.move", from: "d/f", to: "out/a/b", parents: true },
      { type: "file.remove", path: "out/secret" },
      { type: "file.remove", path: "out/sub", recursive: true },
      { type: "file.upload", path: "out/up" },
      { type: "file.upload", path: "out-file" },
    ];
    for (const attempt of attempts) {
      expect({ attempt, reply: await ask({ ...attempt, type: attempt["type"] as string }) }).toMatchObject({ attempt, reply: refused("path_outside_workspace") });
    }
    expectOutsideUntouched();
    expect(existsSync(join(workspace, "stolen"))).toBe(false);
  });

  test("symlinks that stay inside are followed, relative or absolute, and a symlink is removed or moved itself", async () => {
    expect(await ask({ type: "file.read", path: "in/f" })).toMatchObject({ type: "file.read.result", data: "inside" });
    expect(await ask({ type: "file.read", path: "abs-in/f" })).toMatchObject({ type: "file.read.result", data: "inside" });
    expect(await ask({ type: "file.read", path: `${workspace}/d/f` })).toMatchObject({ type: "file.read.result", data: "inside" });
    expect(await ask({ type: "file.stat", path: "out" })).toMatchObject({ type: "file.stat.result", entry: { type: "symlink", target: outside } });
    expect(await ask({ type: "file.move", from: "out", to: "out-moved" })).toMatchObject({ type: "file.move.result" });
    expect(await ask({ type: "file.move", from: "out-moved", to: "out" })).toMatchObject({ type: "file.move.result" });
    symlinkSync(outside, join(workspace, "d", "to-remove"));
    expect(await ask({ type: "file.remove", path: "d/to-remove", recursive: true })).toMatchObject({ type: "file.remove.result" });
    expectOutsideUntouched();
  });

  test("mkdir with parents goes through a symlink to a directory inside, and one leading outside stays exists, with nothing made outside", async () => {
    expect(await ask({ type: "file.mkdir", path: "in", parents: true })).toMatchObject({ type: "file.mkdir.result", created: false, entry: { path: "d", type: "directory" } });
    expect(await ask({ type: "file.mkdir", path: "abs-in/", parents: true })).toMatchObject({ type: "file.mkdir.result", created: false, entry: { path: "d" } });
    for (const path of ["out", "rel-out", "root", "d/inner-out", "d/up"]) {
      expect({ path, reply: await ask({ type: "file.mkdir", path, parents: true }) }).toMatchObject({
        path,
        reply: { type: "error", code: "exists", message: expect.stringContaining("a symlink that leads outside the workspace") },
      });
    }
    expectOutsideUntouched();
  });

  test("dot-dot and absolute paths outside are refused", async () => {
    for (const path of ["..", "../x", "d/../../x", "/etc/passwd", `${workspace}/../x`, `${workspace}-other/x`]) {
      expect({ path, reply: await ask({ type: "file.read", path }) }).toMatchObject({ path, reply: refused("path_outside_workspace") });
      expect({ path, reply: await ask({ type: "file.write", path, data: "x" }) }).toMatchObject({ path, reply: refused("path_outside_workspace") });
    }
  });

  test("a symlink loop is limit_exceeded", async () => {
    expect(await ask({ type: "file.read", path: "loop1" })).toMatchObject(refused("limit_exceeded"));
    expect(await ask({ type: "file.list", path: "loop1/x" })).toMatchObject(refused("limit_exceeded"));
  });

  test("fifos, sockets, devices and files with several hard links are refused, without blocking", async () => {
    const special = ["fifo", "sock", "hard", ...(hasDevice ? ["dev"] : [])];
    for (const path of special) {
      for (const message of [
        { type: "file.read", path },
        { type: "file.write", path, data: "x" },
        { type: "file.write", path, data: "x", ifExists: "append" },
        { type: "file.download", path },
        { type: "file.upload", path },
      ]) {
        expect({ message, reply: await ask(message) }).toMatchObject({ message, reply: refused("unsupported_file_type") });
      }
    }
    if (!hasDevice) console.warn("mknod is not permitted here: the device case was not run");
    expectOutsideUntouched();
  });

  test("stat and list describe special files without opening them", async () => {
    expect(await ask({ type: "file.stat", path: "fifo" })).toMatchObject({ entry: { type: "fifo" } });
    expect(await ask({ type: "file.stat", path: "sock" })).toMatchObject({ entry: { type: "socket" } });
    expect(await ask({ type: "file.stat", path: "hard" })).toMatchObject({ entry: { type: "file", nlink: 2 } });
    if (hasDevice) expect(await ask({ type: "file.stat", path: "dev" })).toMatchObject({ entry: { type: "device" } });
  });
});
