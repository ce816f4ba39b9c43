// The order in which a PID namespace's processes are signalled (SIGSTOP parents first, SIGCONT children first).
import { expect, test } from "bun:test";
import { parentsFirst } from "../../src/exec/process-tree.ts";

test("puts each process after its parent, whatever the pid order", () => {
  const processes = [
    // Pids wrap: a child may have a lower pid than its parent.
    { pid: 5, ppid: 11 },
    { pid: 12, ppid: 10 },
    { pid: 11, ppid: 10 },
    { pid: 10, ppid: 1 },
    { pid: 99, ppid: 4 },
  ];
  const order = parentsFirst(processes).map((process) => process.pid);
  for (const { pid, ppid } of processes) {
    if (order.includes(ppid)) expect(order.indexOf(ppid)).toBeLessThan(order.indexOf(pid));
  }
  expect(order.slice(0, 2).sort()).toEqual([10, 99]);
});

test("ends on parent links that loop (pids reused between reads of /proc)", () => {
  const order = parentsFirst([
    { pid: 2, ppid: 3 },
    { pid: 3, ppid: 2 },
  ]);
  expect(order.map((process) => process.pid).sort()).toEqual([2, 3]);
});
