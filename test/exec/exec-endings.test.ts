import { expect, test } from "bun:test";
import { drainTerminal } from "../../src/exec/exec-endings.ts";

const notHeld = { resumed: () => undefined };

test("a terminal quiet for long is read once more before its output is called complete, and again while the read finds some", async () => {
  const taken: string[] = [];
  let lastDataAt = performance.now() - 1000;
  // What the kernel still held when the terminal looked quiet: two reads' worth, then nothing.
  const held = ["late ", "output"];
  const readHeld = () => {
    const bytes = held.shift();
    if (bytes === undefined) return false;
    taken.push(bytes);
    lastDataAt = performance.now();
    return true;
  };
  const complete = Promise.withResolvers<string[]>();
  await drainTerminal(() => lastDataAt, notHeld, readHeld, () => complete.resolve([...taken]));
  expect(await complete.promise).toEqual(["late ", "output"]);
});

test("a quiet terminal with nothing held is complete without more", async () => {
  let reads = 0;
  const lastDataAt = performance.now() - 1000;
  const complete = Promise.withResolvers<void>();
  await drainTerminal(() => lastDataAt, notHeld, () => (reads++, false), complete.resolve);
  await complete.promise;
  expect(reads).toBe(1);
});
