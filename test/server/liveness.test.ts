// The liveness sweep's rule for a peer on a slow link, which a real socket cannot show quickly and
// reliably (it needs output backed up behind kernel buffers of several MB): with output waiting
// for it, a peer that took bytes since the last sweep is alive, even if its pong is stuck behind
// that output; one that took nothing, or whose bytes only went into an empty queue, is not.
// test/server/keepalive.test.ts drives the same watch through real sockets.
import { expect, test } from "bun:test";
import { sweepLiveness, type WatchedSocket } from "../../src/server/liveness.ts";

const IDLE_MS = 8000;
const SWEEP_MS = 1000;

/** A socket that never answers: `waiting` bytes queued, `taken` of `handed` already acknowledged by the peer. */
function fakeSocket(): WatchedSocket & { waiting: number; handed: number; terminated: boolean; pings: number } {
  const socket = {
    waiting: 0,
    handed: 0,
    terminated: false,
    pings: 0,
    data: { heardAtMs: 0, pingedAtMs: 0, takenAtSweep: -1, sink: { get handedBytes() { return socket.handed; } } },
    getBufferedAmount: () => socket.waiting,
    ping: () => socket.pings++,
    terminate: () => {
      socket.terminated = true;
    },
  };
  return socket;
}

/** Sweeps every second for `ms`, letting `step` change the sockets before each sweep. */
function run(sockets: WatchedSocket[], ms: number, step: (at: number) => void): void {
  for (let at = SWEEP_MS; at <= ms; at += SWEEP_MS) {
    step(at);
    sweepLiveness(sockets.filter((socket) => !(socket as { terminated?: boolean }).terminated), IDLE_MS, at);
  }
}

test("a peer that keeps taking queued output stays past the idle timeout without a pong; one that stops taking goes", () => {
  const slow = fakeSocket();
  const stalled = fakeSocket();
  run([slow, stalled], 3 * IDLE_MS, (at) => {
    // Both have 1 MiB waiting (handed, not yet taken); the slow one's TCP takes 100 KB a second,
    // and it is handed as much again.
    if (at === SWEEP_MS) slow.handed = stalled.handed = 1 << 20;
    slow.waiting = 1 << 20;
    slow.handed += 100_000;
    stalled.waiting = 1 << 20;
    if (at < 2000) stalled.handed += 100_000;
  });
  expect(slow.terminated).toBe(false);
  expect(stalled.terminated).toBe(true);
  expect(stalled.pings).toBe(1);
});

test("bytes handed while nothing waits went into the kernel's buffer and prove nothing: the peer goes at the timeout", () => {
  const trickle = fakeSocket();
  run([trickle], 2 * IDLE_MS, () => {
    trickle.waiting = 0;
    trickle.handed += 10;
  });
  expect(trickle.terminated).toBe(true);
  expect(trickle.pings).toBe(1);
});

test("a peer heard from (a message or a pong) stays; the ping comes at half the timeout, once per silence", () => {
  const quiet = fakeSocket();
  const pinged: number[] = [];
  run([quiet], 3 * IDLE_MS, (at) => {
    if (quiet.pings > pinged.length) {
      pinged.push(at);
      quiet.data.heardAtMs = at; // its pong
    }
  });
  expect(quiet.terminated).toBe(false);
  expect(pinged.length).toBeGreaterThanOrEqual(4);
});
