import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, readdirSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSpareFds } from "../../src/exec/spare-fds.ts";

const dir = mkdtempSync(join(tmpdir(), "bunker-spare-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const openFds = () => readdirSync("/proc/self/fd").length;

function readFromStart(fd: number): string {
  const bytes = new Uint8Array(64);
  // From the fd's own offset, as bwrap reads it: it must be at the start.
  return new TextDecoder().decode(bytes.subarray(0, readSync(fd, bytes, 0, bytes.byteLength, null)));
}

test("a taken file is read from its start; the next one was opened ahead, before the file changed", async () => {
  const spares = createSpareFds();
  const path = join(dir, "filter");
  writeFileSync(path, "first");
  const taken = spares.takeFile(path);
  expect(readFromStart(taken)).toBe("first");
  closeSync(taken);
  await nextTurn();
  // Replaced under the same name: the spare is the old file, which shows it was opened in advance.
  rmSync(path);
  writeFileSync(path, "second");
  const spare = spares.takeFile(path);
  expect(readFromStart(spare)).toBe("first");
  closeSync(spare);
});

test("files with no name hold what each take asked for, each from its start", async () => {
  const spares = createSpareFds();
  const taken: number[] = [];
  for (const text of ["env one", "", "env two", "env three"]) {
    const fd = spares.takeAnonymous(new TextEncoder().encode(text));
    expect(readFromStart(fd)).toBe(text);
    taken.push(fd);
    await nextTurn();
  }
  expect(new Set(taken).size).toBe(taken.length);
  for (const fd of taken) closeSync(fd);
});

test("spares do not pile up: a new path closes the old one's, and takes in a row keep the count", async () => {
  const spares = createSpareFds();
  const paths = [join(dir, "a"), join(dir, "b")];
  for (const path of paths) writeFileSync(path, "x");
  const use = async (round: number) => {
    closeSync(spares.takeFile(paths[round % 2]!));
    closeSync(spares.takeAnonymous(new Uint8Array([round])));
    closeSync(spares.takeAnonymous(new Uint8Array()));
    await nextTurn();
  };
  await use(0);
  const settled = openFds();
  for (let round = 1; round <= 50; round++) await use(round);
  expect(openFds()).toBe(settled);
});

test("a file gone before its spare is opened does not keep the files with no name from theirs", async () => {
  const spares = createSpareFds();
  const path = join(dir, "gone");
  writeFileSync(path, "x");
  closeSync(spares.takeFile(path));
  // The server stopped and took its runtime directory with it before the refill ran.
  rmSync(path);
  await nextTurn();
  const before = openFds();
  const fd = spares.takeAnonymous(new TextEncoder().encode("env"));
  // A spare, opened in the refill: taking it opens nothing.
  expect(openFds()).toBe(before);
  expect(readFromStart(fd)).toBe("env");
  closeSync(fd);
});
