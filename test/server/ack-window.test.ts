// The ack window against programs that cannot be paused: a PTY whose program turned IXON off.
import { describe, expect, test } from "bun:test";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { connect as connectSession } from "../../src/client/index.ts";
import { connect } from "../helpers/client.ts";
import { useSharedServer } from "../helpers/shared-server.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

type Output = Extract<ServerMessage, { type: "output" }>;
type Gap = Extract<ServerMessage, { type: "gap" }>;

/** Bun's WebSocket client can stop reading its socket; the DOM's type does not say so. */
interface PausableSocket {
  pause(): boolean;
  resume(): boolean;
}

const WINDOW_BYTES = 64 * 1024;
/** Three times the log's hard cap (8 MiB): the log drops output while the window is full. */
const FLOOD_BYTES = 24 * 1024 * 1024;

/** Both ways a program turns IXON off: ^S then does nothing, and the program cannot be paused. */
const IXON_OFF = ["stty -ixon", "stty raw"];

/** Checks that `message` is output at `position` of the stream; returns how many bytes it carries. */
function outputAt(message: ServerMessage, position: number): number {
  expect(message.type).toBe("output");
  const output = message as Output;
  expect(output.offset).toBe(position);
  return output.data.length;
}

/**
 * A shell line that floods its terminal, then says so on a fifo (blocking until it is read). Long
 * lines: a terminal that translates each "\n" of `yes` into "\r\n" moves only a few MB/s.
 */
function floodLine(ixonOff: string, fifo: string): string {
  return `${ixonOff}; yes $(printf %01000d 0) | head -c ${FLOOD_BYTES}; echo flooded > ${fifo}`;
}

describe.skipIf(noBwrap)("an ack window on a PTY whose program cannot be paused", () => {
  const shared = useSharedServer();

  for (const [index, ixonOff] of IXON_OFF.entries()) {
    test(`\`${ixonOff}\`: a client that does not ack is sent one window and no gap, then one gap and data per window it acks`, async () => {
      const id = `flood-${index}`;
      const fifo = `flooded-${index}`;
      // Made in the sandbox: a fifo the test's host user made would not be the command's to open.
      expect((await shared.client.exec({ id: `${id}-fifo`, argv: ["mkfifo", fifo] })).exit).toMatchObject({ code: 0 });
      shared.client.send({ type: "exec", id, cmd: floodLine(ixonOff, fifo), pty: { cols: 80, rows: 24 }, ackWindowBytes: WINDOW_BYTES });
      // Once the program has written every byte, the server has read nearly all of them; this
      // exec's exit is sent on the same socket after whatever the flood was sent by then.
      const flooded = await shared.client.exec({ id: `${id}-done`, argv: ["cat", fifo] });
      expect(flooded.stdout).toBe("flooded\n");

      const sent = shared.client.takeQueued((m) => "id" in m && m.id === id);
      expect(sent[0]).toMatchObject({ type: "started", id });
      const outputs = sent.filter((m): m is Output => m.type === "output");
      expect(sent.filter((m) => m.type !== "output").map((m) => m.type)).toEqual(["started"]);
      let position = 0;
      for (const output of outputs) position += outputAt(output, position);
      expect(position).toBe(WINDOW_BYTES);

      // Acking the window lets the stream resume: the bytes dropped meanwhile come as one gap, then data.
      shared.client.send({ type: "ack", id, stream: "stdout", offset: position });
      const gap = await shared.client.next<Gap>((m) => "id" in m && m.id === id);
      expect(gap).toMatchObject({ type: "gap", id, stream: "stdout", from: WINDOW_BYTES });
      expect(gap.to).toBeGreaterThan(WINDOW_BYTES);
      position = gap.to;

      // To the exit, acking each full window: never more than a window unacknowledged, a gap only
      // right after an ack, and every byte held when the program ended arrives.
      let unacked = 0;
      let justAcked = false;
      for (;;) {
        const message = await shared.client.next((m) => "id" in m && m.id === id);
        if (message.type === "exit") break;
        if (message.type === "gap") {
          expect(justAcked).toBe(true);
          expect(message.from).toBe(position);
          position = message.to;
          continue;
        }
        const length = outputAt(message, position);
        position += length;
        unacked += length;
        justAcked = false;
        expect(unacked).toBeLessThanOrEqual(WINDOW_BYTES);
        if (unacked === WINDOW_BYTES) {
          shared.client.send({ type: "ack", id, stream: "stdout", offset: position });
          unacked = 0;
          justAcked = true;
        }
      }
    }, 30_000);
  }

  test("a gap after the socket congested, with the window not full, takes no room: the bytes sent before it still count", async () => {
    // Larger than what the kernel's socket buffers take (a few MiB) before the server's queue congests.
    const window = 16 * 1024 * 1024;
    await using viewer = await connect(shared.server);
    const socket = viewer.ws as WebSocket & PausableSocket;
    expect((await viewer.exec({ id: "go-fifo", argv: ["mkfifo", "go"] })).exit).toMatchObject({ code: 0 });
    viewer.send({ type: "exec", id: "jam", cmd: "stty raw; read -r _ < go; exec yes", pty: { cols: 80, rows: 24 }, ackWindowBytes: window });
    await viewer.next((m) => m.type === "started" && m.id === "jam");
    // A second socket of the session, to watch the flood while the first is stopped. Joined after
    // the exec started, it is not subscribed to it, so the viewer alone paces its log.
    await using watcher = await connect(shared.server, { query: { session: viewer.hello.session }, protocols: ["bunker.v1", `bunker.resume.${viewer.hello.resumeSecret}`] });
    // The viewer stops reading: the server sees TCP backpressure, and its queue congests.
    expect(socket.pause()).toBe(true);
    viewer.send({ type: "exec", id: "go", cmd: "echo > go" });
    // Until the log has dropped bytes the stopped socket was due: well past its hard cap (8 MiB)
    // beyond what the kernel's buffers took.
    // No message tells a socket that is not subscribed how far the log has gone: it asks, at most
    // every 10 ms. Asked back to back, under load it went past the 1000 messages a second that one
    // socket may send, and the server closed it (4029).
    for (let round = 0; ; round++) {
      if (round > 0) await Bun.sleep(10);
      watcher.send({ type: "list", id: `jam-${round}` });
      const reply = await watcher.next<Extract<ServerMessage, { type: "execs" }>>((m) => m.type === "execs" && m.id === `jam-${round}`);
      if (reply.execs.find((exec) => exec.id === "jam")!.bytes.stdout > 40 * 1024 * 1024) break;
    }
    socket.resume();

    // Never acking: data, then a gap (the window was not full), then more data, and no more data in
    // all than one window: what was sent before the gap still counts.
    let position = 0;
    let received = 0;
    const gaps: Gap[] = [];
    while (received < window) {
      const message = await viewer.next((m) => "id" in m && m.id === "jam");
      if (message.type === "gap") {
        expect(message.from).toBe(position);
        position = message.to;
        gaps.push(message);
        continue;
      }
      const length = outputAt(message, position);
      position += length;
      received += length;
    }
    expect(received).toBe(window);
    expect(gaps[0]?.from).toBeGreaterThan(0);
    // Messages on one socket keep their order: an exec's exit comes after anything sent before it.
    await viewer.exec({ id: "after-window", argv: ["true"] });
    expect(viewer.takeQueued((m) => "id" in m && m.id === "jam")).toEqual([]);

    viewer.send({ type: "signal", id: "jam", signal: "SIGKILL" });
    viewer.send({ type: "detach", id: "jam" });
  }, 30_000);

  test("the client library, acking at half its window, holds at most a window and reads through gaps to the exit", async () => {
    await using session = await connectSession(shared.server.url, { token: shared.server.token! });
    const fifo = "flooded-library";
    expect(await session.exec(["mkfifo", fifo]).exited).toMatchObject({ code: 0 });
    const flood = session.exec(floodLine("stty raw", fifo), { pty: { cols: 80, rows: 24 }, ackWindowBytes: WINDOW_BYTES });
    // Nothing is read until the program has flooded: the window fills, and the log drops bytes.
    const done = session.exec(["cat", fifo]);
    expect(await done.stdout.readAllText()).toBe("flooded\n");
    expect(flood.stdout.bufferedBytes).toBe(WINDOW_BYTES);
    const bytes = await flood.stdout.readAll();
    expect(await flood.exited).toMatchObject({ code: 0, reason: "exited" });
    expect(flood.stdout.maxBufferedBytes).toBe(WINDOW_BYTES);
    expect(flood.stdout.gaps.length).toBeGreaterThan(0);
    const dropped = flood.stdout.gaps.reduce((sum, gap) => sum + gap.to - gap.from, 0);
    expect(bytes.byteLength + dropped).toBe(FLOOD_BYTES);
  }, 30_000);
});
