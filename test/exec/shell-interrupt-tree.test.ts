// The process tree that a persistent shell's interrupt looks at, built from a snapshot of /proc.
import { expect, test } from "bun:test";
import { treeUnder, type ProcessParent } from "../../src/exec/shell-interrupt.ts";

const parents = new Map<number, ProcessParent>([
  [10, { ppid: 1, startTime: "100" }],
  [11, { ppid: 10, startTime: "101" }],
  // Pids wrap: a child may have a lower pid than its parent.
  [5, { ppid: 11, startTime: "102" }],
  [12, { ppid: 10, startTime: "103" }],
  [99, { ppid: 1, startTime: "104" }],
]);

/** A reader of argv that fails the test, instead of hanging it, when the same pid is asked for again and again. */
function countingReader(gone: ReadonlySet<number>): (pid: number) => string | undefined {
  const asked = new Map<number, number>();
  return (pid) => {
    const times = (asked.get(pid) ?? 0) + 1;
    asked.set(pid, times);
    if (times > 10) throw new Error(`pid ${pid}'s argv was asked for ${times} times: the search does not end`);
    return gone.has(pid) ? undefined : `prog-${pid}\0`;
  };
}

test("the tree holds the root and everything below it, with depths, whatever the pid order", () => {
  const tree = treeUnder(10, parents, countingReader(new Set()));
  expect([...tree].map(([pid, facts]) => [pid, facts.depth, facts.cmdline]).sort(([a], [b]) => Number(a) - Number(b))).toEqual([
    [5, 2, "prog-5\0"],
    [10, 0, "prog-10\0"],
    [11, 1, "prog-11\0"],
    [12, 1, "prog-12\0"],
  ]);
});

test("a process that exited between the scan of /proc and the read of its argv is left out, and the search ends", () => {
  const tree = treeUnder(10, parents, countingReader(new Set([12])));
  expect([...tree.keys()].sort((a, b) => a - b)).toEqual([5, 10, 11]);
});

test("a parent that exited takes its children out of the tree", () => {
  const tree = treeUnder(10, parents, countingReader(new Set([11])));
  expect([...tree.keys()].sort((a, b) => a - b)).toEqual([10, 12]);
});

test("a root that is not in the snapshot gives an empty tree", () => {
  expect(treeUnder(42, parents, countingReader(new Set())).size).toBe(0);
});
