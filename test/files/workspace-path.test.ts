import { expect, test } from "bun:test";
import { endsAsDirectory, formatComponents, parseWorkspacePath, resolveLinkTarget } from "../../src/files/workspace-path.ts";

const ws = "/srv/ws/abc";

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

test("relative paths become components, with . and empty parts dropped", () => {
  expect(parseWorkspacePath(ws, "")).toEqual([]);
  expect(parseWorkspacePath(ws, ".")).toEqual([]);
  expect(parseWorkspacePath(ws, "a/./b//c/")).toEqual(["a", "b", "c"]);
  expect(parseWorkspacePath(ws, "a/b/../c")).toEqual(["a", "c"]);
});

test("absolute paths inside the workspace are accepted, and every other absolute path is refused", () => {
  expect(parseWorkspacePath(ws, "/srv/ws/abc")).toEqual([]);
  expect(parseWorkspacePath(ws, "/srv/ws/abc/x/y")).toEqual(["x", "y"]);
  expect(parseWorkspacePath(ws, "/srv/ws/abc/../abc/x")).toEqual(["x"]);
  expect(codeOf(() => parseWorkspacePath(ws, "/etc/passwd"))).toBe("path_outside_workspace");
  expect(codeOf(() => parseWorkspacePath(ws, "/srv/ws/abcd/x"))).toBe("path_outside_workspace");
  expect(codeOf(() => parseWorkspacePath(ws, "/srv/ws"))).toBe("path_outside_workspace");
  expect(codeOf(() => parseWorkspacePath(ws, "/"))).toBe("path_outside_workspace");
});

test("dot-dot cannot climb above the workspace, even when it comes back down", () => {
  expect(codeOf(() => parseWorkspacePath(ws, ".."))).toBe("path_outside_workspace");
  expect(codeOf(() => parseWorkspacePath(ws, "a/../../abc/x"))).toBe("path_outside_workspace");
  expect(codeOf(() => parseWorkspacePath(ws, "/srv/ws/abc/../../etc"))).toBe("path_outside_workspace");
});

test("a component longer than NAME_MAX is bad_message", () => {
  expect(codeOf(() => parseWorkspacePath(ws, `a/${"x".repeat(256)}`))).toBe("bad_message");
  expect(parseWorkspacePath(ws, "x".repeat(255))).toEqual(["x".repeat(255)]);
});

test("a path ending in /, /. or /.. must name a directory, which its components alone no longer show", () => {
  for (const path of ["a.txt/", "a.txt//", "a/.", "a/b/..", "/srv/ws/abc/x/", "./"]) expect({ path, directory: endsAsDirectory(path) }).toEqual({ path, directory: true });
  for (const path of ["a.txt", "a/b", "", ".", "..", "a/.b", "a/..b"]) expect({ path, directory: endsAsDirectory(path) }).toEqual({ path, directory: false });
});

test("symlink targets resolve against their directory or the workspace, or lead outside", () => {
  expect(resolveLinkTarget(ws, ["a", "b"], "c")).toEqual(["a", "b", "c"]);
  expect(resolveLinkTarget(ws, ["a", "b"], "../c")).toEqual(["a", "c"]);
  expect(resolveLinkTarget(ws, ["a"], "../..")).toBeNull();
  expect(resolveLinkTarget(ws, [], "/")).toBeNull();
  expect(resolveLinkTarget(ws, [], "/etc")).toBeNull();
  expect(resolveLinkTarget(ws, ["a"], "/srv/ws/abc/z")).toEqual(["z"]);
  expect(resolveLinkTarget(ws, ["a"], ".")).toEqual(["a"]);
});

test("components print as the wire form", () => {
  expect(formatComponents([])).toBe(".");
  expect(formatComponents(["a", "b"])).toBe("a/b");
});
