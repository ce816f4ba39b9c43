import { expect, test } from "bun:test";
import { createAckTracker } from "../../src/web/ack-window.ts";

test("acks once a quarter window more is rendered, not on every chunk", () => {
  const acks: number[] = [];
  const tracker = createAckTracker(1000, (offset) => acks.push(offset));
  for (const offset of [10, 100, 249, 250, 260, 499, 500, 1000]) tracker.rendered(offset);
  expect(acks).toEqual([250, 500, 1000]);
});

test("never stalls a sender that filled its window: a fully rendered window is always acked", () => {
  const acks: number[] = [];
  const tracker = createAckTracker(1000, (offset) => acks.push(offset));
  tracker.rendered(240);
  tracker.rendered(1000);
  tracker.rendered(1240);
  tracker.rendered(2000);
  expect(acks).toEqual([1000, 2000]);
});

test("counts from the offset of a fresh attach", () => {
  const acks: number[] = [];
  const tracker = createAckTracker(1000, (offset) => acks.push(offset));
  tracker.reset(5000);
  tracker.rendered(5100);
  tracker.rendered(5250);
  expect(acks).toEqual([5250]);
});
