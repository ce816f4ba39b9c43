import { afterAll, expect, test } from "bun:test";
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileReply } from "../../src/protocol/index.ts";
import { createHarness, type Harness } from "./helpers/harness.ts";

type Events = Extract<FileReply, { type: "file.watch.events" }>;
const outside = realpathSync(mkdtempSync(join(tmpdir(), "bunker-watch-outside-")));
afterAll(() => rmSync(outside, { recursive: true, force: true }));

/** Collects a watch's events until one matches `until`; returns every event seen, in order. */
async function eventsUntil(h: Harness, id: string, until: (event: Events["events"][number]) => boolean) {
  const seen: Events["events"][number][] = [];
  let overflow = false;
  for (;;) {
    const batch = await h.next<Events>((reply) => reply.type === "file.watch.events" && reply.id === id);
    seen.push(...batch.events);
    overflow ||= batch.overflow === true;
    if (batch.events.some(until)) return { seen, overflow };
  }
}

test("a watch reports created, modified and removed files of its directory, and not of subdirectories", async () => {
  using h = createHarness();
  mkdirSync(join(h.workspace, "sub"));
  expect(await h.request({ type: "file.watch", id: "w", path: "." })).toEqual({ type: "file.watch.ready", id: "w", path: "." });
  writeFileSync(join(h.workspace, "sub", "hidden"), "x");
  writeFileSync(join(h.workspace, "a"), "1");
  const created = await eventsUntil(h, "w", (event) => event.type === "create" && event.path === "a");
  appendFileSync(join(h.workspace, "a"), "2");
  const modified = await eventsUntil(h, "w", (event) => event.type === "modify" && event.path === "a");
  rmSync(join(h.workspace, "a"));
  const removed = await eventsUntil(h, "w", (event) => event.type === "remove" && event.path === "a");
  const seen = [...created.seen, ...modified.seen, ...removed.seen];
  expect(seen.some((event) => event.path !== "a")).toBe(false);
});

test("a recursive watch follows new directories, announces what they hold, and the server's own writes show as one create", async () => {
  using h = createHarness();
  await h.request({ type: "file.watch", id: "w", path: "", recursive: true });
  mkdirSync(join(h.workspace, "n1/n2"), { recursive: true });
  writeFileSync(join(h.workspace, "n1/n2/early"), "x");
  await eventsUntil(h, "w", (event) => event.path === "n1/n2/early");
  writeFileSync(join(h.workspace, "n1/n2/late"), "x");
  await eventsUntil(h, "w", (event) => event.type === "create" && event.path === "n1/n2/late");
  await h.request({ type: "file.write", id: "write", path: "n1/by-server", data: "x" });
  const { seen } = await eventsUntil(h, "w", (event) => event.path === "n1/by-server");
  expect(seen.filter((event) => event.path.includes(".bunker-"))).toEqual([]);
  renameSync(join(h.workspace, "n1"), join(h.workspace, "m1"));
  await eventsUntil(h, "w", (event) => event.type === "create" && event.path === "m1");
  writeFileSync(join(h.workspace, "m1/n2/after-move"), "x");
  await eventsUntil(h, "w", (event) => event.path === "m1/n2/after-move");
});

test("a user's own file that only starts like the server's temporary names is reported", async () => {
  using h = createHarness();
  await h.request({ type: "file.watch", id: "w", path: "." });
  writeFileSync(join(h.workspace, ".bunker-tmp-notes"), "x");
  writeFileSync(join(h.workspace, ".bunker-part-1"), "x");
  writeFileSync(join(h.workspace, "marker"), "x");
  const { seen } = await eventsUntil(h, "w", (event) => event.path === "marker");
  expect(seen.map((event) => event.path)).toEqual(expect.arrayContaining([".bunker-tmp-notes", ".bunker-part-1"]));
});

test("symlinks in a watched tree are reported, never followed out of the workspace", async () => {
  using h = createHarness();
  symlinkSync(outside, join(h.workspace, "out"));
  await h.request({ type: "file.watch", id: "w", path: ".", recursive: true });
  symlinkSync(outside, join(h.workspace, "out2"));
  writeFileSync(join(outside, "secret"), "x");
  writeFileSync(join(h.workspace, "marker"), "x");
  const { seen } = await eventsUntil(h, "w", (event) => event.path === "marker");
  expect(seen).toContainEqual({ type: "create", path: "out2" });
  expect(seen.filter((event) => event.path.includes("secret"))).toEqual([]);
});

test("unwatch stops the events, and unknown watches are unknown_transfer", async () => {
  using h = createHarness();
  await h.request({ type: "file.watch", id: "old", path: "." });
  expect(await h.request({ type: "file.unwatch", id: "old" })).toEqual({ type: "file.unwatch.result", id: "old" });
  writeFileSync(join(h.workspace, "after"), "x");
  await h.request({ type: "file.watch", id: "new", path: "." });
  writeFileSync(join(h.workspace, "marker"), "x");
  await eventsUntil(h, "new", (event) => event.path === "marker");
  expect(h.queued().filter((reply) => reply.id === "old")).toEqual([]);
  expect(await h.request({ type: "file.unwatch", id: "old" })).toMatchObject({ type: "error", code: "unknown_transfer" });
});

test("a watch of a file or a missing path is refused", async () => {
  using h = createHarness();
  writeFileSync(join(h.workspace, "f"), "");
  expect(await h.request({ type: "file.watch", id: "1", path: "f" })).toMatchObject({ type: "error", code: "not_directory" });
  expect(await h.request({ type: "file.watch", id: "2", path: "nope" })).toMatchObject({ type: "error", code: "not_found" });
});

test("events wait while the connection is congested, and past the cap they are dropped and overflow is reported", async () => {
  using h = createHarness({ limits: { maxPendingEvents: 3 } });
  const release = h.congest();
  await h.request({ type: "file.watch", id: "w", path: "." });
  for (let i = 0; i < 10; i++) writeFileSync(join(h.workspace, `f${i}`), "");
  writeFileSync(join(h.workspace, "zz-marker"), "");
  await h.request({ type: "file.watch", id: "probe", path: "." });
  writeFileSync(join(h.workspace, "zz-probe"), "");
  expect(h.queued().filter((reply) => reply.type === "file.watch.events")).toEqual([]);
  release();
  const { overflow } = await eventsUntil(h, "w", (event) => event.path === "zz-probe");
  expect(overflow).toBe(true);
});

test("a removed directory is reported once, as itself, and a child named like its parent is still a child", async () => {
  using h = createHarness();
  mkdirSync(join(h.workspace, "sub/sub"), { recursive: true });
  await h.request({ type: "file.watch", id: "w", path: ".", recursive: true });
  rmSync(join(h.workspace, "sub/sub"), { recursive: true });
  const first = await eventsUntil(h, "w", (event) => event.path === "sub/sub");
  expect(first.seen).toEqual([{ type: "remove", path: "sub/sub" }]);
  rmSync(join(h.workspace, "sub"), { recursive: true });
  writeFileSync(join(h.workspace, "marker"), "");
  const second = await eventsUntil(h, "w", (event) => event.path === "marker");
  expect(second.seen.filter((event) => event.path !== "marker")).toEqual([{ type: "remove", path: "sub" }]);
});

test("watches started one after another, on reused fd numbers, each report their own directory", async () => {
  using h = createHarness();
  mkdirSync(join(h.workspace, "a"));
  mkdirSync(join(h.workspace, "b"));
  await h.request({ type: "file.watch", id: "wa", path: "a" });
  await h.request({ type: "file.watch", id: "wb", path: "b" });
  writeFileSync(join(h.workspace, "a", "only-a"), "");
  writeFileSync(join(h.workspace, "b", "only-b"), "");
  const a = await eventsUntil(h, "wa", (event) => event.path === "a/only-a");
  const b = await eventsUntil(h, "wb", (event) => event.path === "b/only-b");
  expect([...a.seen, ...b.seen].filter((event) => event.path.includes("only-") && event.path[0] !== event.path.at(-1))).toEqual([]);
});

test("a watch whose directory is removed or moved away says so: a remove of it, then file.unwatch.result with gone, and its slot is free", async () => {
  using h = createHarness();
  mkdirSync(join(h.workspace, "doomed/inner"), { recursive: true });
  mkdirSync(join(h.workspace, "moved"));
  await h.request({ type: "file.watch", id: "w1", path: "doomed", recursive: true });
  await h.request({ type: "file.watch", id: "w2", path: "moved" });
  rmSync(join(h.workspace, "doomed"), { recursive: true });
  await eventsUntil(h, "w1", (event) => event.type === "remove" && event.path === "doomed");
  expect(await h.next((reply) => reply.type === "file.unwatch.result" && reply.id === "w1")).toEqual({ type: "file.unwatch.result", id: "w1", gone: true });
  renameSync(join(h.workspace, "moved"), join(h.workspace, "elsewhere"));
  expect(await h.next((reply) => reply.type === "file.unwatch.result" && reply.id === "w2")).toEqual({ type: "file.unwatch.result", id: "w2", gone: true });
  // Ended: its id is free again, and unwatching it is unknown_transfer.
  expect(await h.request({ type: "file.watch", id: "w1", path: "." })).toEqual({ type: "file.watch.ready", id: "w1", path: "." });
});

// Found by a review: the move of a parent sent the watch nothing, and its later events named the
// old path (`remove p/c/after` for a file written at q/c/after).
test("a watch whose parent directory is moved ends at its next event, with gone, and names no old path", async () => {
  using h = createHarness();
  mkdirSync(join(h.workspace, "p/c"), { recursive: true });
  await h.request({ type: "file.watch", id: "w", path: "p/c", recursive: true });
  renameSync(join(h.workspace, "p"), join(h.workspace, "q"));
  writeFileSync(join(h.workspace, "q/c/after"), "2");
  const { seen } = await eventsUntil(h, "w", (event) => event.path === "p/c");
  expect(seen).toEqual([{ type: "remove", path: "p/c" }]);
  expect(await h.next((reply) => reply.type === "file.unwatch.result" && reply.id === "w")).toEqual({ type: "file.unwatch.result", id: "w", gone: true });
});

// Found by an audit: Bun names a change of a watched directory itself (chmod, touch) by the
// directory's own name, and the watch joined it on: `touch w` was `modify w/w`, a path that never was.
test("a change of a watched directory itself is reported at its own path, and a child of the same name still at its", async () => {
  using h = createHarness();
  mkdirSync(join(h.workspace, "w/sub"), { recursive: true });
  await h.request({ type: "file.watch", id: "tree", path: "w", recursive: true });
  await h.request({ type: "file.watch", id: "flat", path: "w/sub" });
  chmodSync(join(h.workspace, "w/sub"), 0o700);
  utimesSync(join(h.workspace, "w"), new Date(), new Date());
  writeFileSync(join(h.workspace, "w/sub/marker"), "x");
  const tree = await eventsUntil(h, "tree", (event) => event.path === "w/sub/marker");
  const flat = await eventsUntil(h, "flat", (event) => event.path === "w/sub/marker");
  const paths = [...tree.seen, ...flat.seen].map((event) => event.path);
  expect(paths.filter((path) => path === "w/sub/sub" || path === "w/w")).toEqual([]);
  expect(tree.seen).toContainEqual({ type: "modify", path: "w/sub" });
  expect(flat.seen).toContainEqual({ type: "modify", path: "w/sub" });
  writeFileSync(join(h.workspace, "w/sub/sub"), "a child named as its directory");
  await eventsUntil(h, "flat", (event) => event.type === "create" && event.path === "w/sub/sub");
  await eventsUntil(h, "tree", (event) => event.type === "create" && event.path === "w/sub/sub");
});

test("a change of the workspace itself under a watch of it is reported as `.`, never as a child named like its directory", async () => {
  using h = createHarness();
  await h.request({ type: "file.watch", id: "top", path: "." });
  chmodSync(h.workspace, 0o750);
  writeFileSync(join(h.workspace, "marker"), "x");
  const { seen } = await eventsUntil(h, "top", (event) => event.path === "marker");
  expect(seen.filter((event) => event.path !== "marker" && event.path !== ".")).toEqual([]);
  expect(seen).toContainEqual({ type: "modify", path: "." });
});

