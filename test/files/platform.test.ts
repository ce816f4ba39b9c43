import { expect, test } from "bun:test";
import { selectPathScheme } from "../../src/files/platform/index.ts";

const dir = { fd: 7, components: ["a", "b"], hostPath: "/ws/a/b" };

test("Linux with /proc walks through /proc/self/fd, naming entries of the pinned directory", () => {
  const scheme = selectPathScheme("linux", true);
  expect(scheme.name).toBe("proc-fd");
  expect(scheme.dirPath(dir)).toBe("/proc/self/fd/7");
  expect(scheme.entryPath(dir, "c")).toBe("/proc/self/fd/7/c");
  expect(scheme.openFlags).toBe(0);
});

test("macOS walks lexically and adds O_NOFOLLOW_ANY to every open; Linux without /proc walks lexically without it", () => {
  const mac = selectPathScheme("darwin", false);
  expect(mac.name).toBe("lexical");
  expect(mac.entryPath(dir, "c")).toBe("/ws/a/b/c");
  expect(mac.openFlags).toBe(0x20000000);
  const bare = selectPathScheme("linux", false);
  expect([bare.name, bare.openFlags]).toEqual(["lexical", 0]);
});
