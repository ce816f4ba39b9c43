// forwardStdin across drops, against a model of the server: each handle is one connection, whose
// writes are handed over at once and arrive only when the test says so (a drop loses the rest), and
// a reconnect's handle comes with the count the resumed hello would carry, or none (an older server).
import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { BunkerError, type ExecHandle } from "../../src/client/index.ts";
import { forwardStdin, type StdinCount, type StdinTarget } from "../../src/cli/stdin-forward.ts";
import { createDeferred } from "../../src/client/deferred.ts";

/** The exec's stdin as the server takes it in. */
class ServerStdin {
  bytes: number[] = [];
  ended = false;
  get count(): StdinCount {
    return { received: this.bytes.length, ended: this.ended };
  }
}

/** One connection's handle: what it was handed waits in flight until `arrive`, and a drop loses it. */
class FakeHandle {
  readonly inFlight: (Uint8Array | "eof")[] = [];
  dropped = false;
  /** While set, a write waits (for credit, say) until the drop cuts it off. */
  stalled = false;
  readonly #drop = createDeferred<void>();
  #handedCount = 0;
  readonly #waiters = new Set<() => void>();

  constructor(private readonly server: ServerStdin) {}

  write(data: Uint8Array): Promise<void> {
    return this.#send(Uint8Array.from(data));
  }

  end(): Promise<void> {
    return this.#send("eof");
  }

  async #send(what: Uint8Array | "eof"): Promise<void> {
    if (this.stalled) await this.#drop.promise;
    if (this.dropped) throw new BunkerError("connection_closed", "the connection closed");
    this.inFlight.push(what);
    this.#handedCount++;
    for (const wake of this.#waiters) wake();
  }

  /** Resolves once `count` sends were handed over on this connection. */
  handed(count = 1): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.#handedCount < count) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** The server takes in everything handed over so far. */
  arrive(): void {
    for (const what of this.inFlight.splice(0)) {
      if (what === "eof") this.server.ended = true;
      else this.server.bytes.push(...what);
    }
  }

  drop(): void {
    this.dropped = true;
    this.inFlight.length = 0;
    this.#drop.resolve();
  }
}

/** The exec followed over connections: `reconnect` drops the current one and brings the next. */
class FakeExec implements StdinTarget {
  readonly server = new ServerStdin();
  handle = new FakeHandle(this.server);
  readonly #counts = new Map<FakeHandle, StdinCount>();
  #next = createDeferred<FakeHandle | undefined>();

  current(): ExecHandle | undefined {
    return this.handle as unknown as ExecHandle;
  }

  next(after: ExecHandle): Promise<ExecHandle | undefined> {
    if ((this.handle as unknown) !== after) return Promise.resolve(this.current());
    return this.#next.promise as Promise<ExecHandle | undefined>;
  }

  resumedStdin(handle: ExecHandle): StdinCount | undefined {
    return this.#counts.get(handle as unknown as FakeHandle);
  }

  /** `withCount`: the resumed hello says what the server took in (false: an older server). */
  reconnect(withCount: boolean, count = this.server.count): FakeHandle {
    this.handle.drop();
    this.handle = new FakeHandle(this.server);
    if (withCount) this.#counts.set(this.handle, count);
    const next = this.#next;
    this.#next = createDeferred();
    next.resolve(this.handle);
    return this.handle;
  }

  over(): void {
    this.#next.resolve(undefined);
  }
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (server: ServerStdin) => new TextDecoder().decode(Uint8Array.from(server.bytes));

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function start(exec: FakeExec) {
  const input = new PassThrough();
  const warnings: string[] = [];
  const done = forwardStdin(input as unknown as NodeJS.ReadStream, exec, () => warnings.push("inexact"));
  return { input, warnings, done };
}

/**
 * Starts forwarding, writes `first` (handed over, and arrived unless `arrived` is false), then
 * `cut`, which the stalled connection takes and never delivers: the write under way at the drop.
 */
async function writeThenCut(exec: FakeExec, first: string, cut: string, arrived = true) {
  const started = start(exec);
  started.input.write(bytes(first));
  await exec.handle.handed(1);
  if (arrived) exec.handle.arrive();
  exec.handle.stalled = true;
  started.input.write(bytes(cut));
  await settle();
  return started;
}

describe("forwardStdin across dropped connections", () => {
  test("with the server's count, sends again exactly what the dead connection had taken and not delivered, then goes on", async () => {
    const exec = new FakeExec();
    const { input, warnings, done } = start(exec);
    input.write(bytes("one,"));
    await exec.handle.handed(1);
    exec.handle.arrive();
    input.write(bytes("two,"));
    await exec.handle.handed(2);
    // "two," was handed over, and is lost with the connection; nothing is being written at the drop.
    const second = exec.reconnect(true);
    await second.handed(1);
    input.end(bytes("three"));
    await second.handed(3);
    second.arrive();
    exec.over();
    await done;
    expect(text(exec.server)).toBe("one,two,three");
    expect(exec.server.ended).toBe(true);
    expect(warnings).toEqual([]);
  });

  test("a write cut off by the drop goes on from where the server stopped, not again whole", async () => {
    const exec = new FakeExec();
    const { input, warnings, done } = await writeThenCut(exec, "abc", "defgh");
    // The server took in "de" of the cut write (credit split it); the rest never arrived.
    exec.server.bytes.push(...bytes("de"));
    const second = exec.reconnect(true);
    input.end();
    await second.handed(2);
    second.arrive();
    exec.over();
    await done;
    expect(text(exec.server)).toBe("abcdefgh");
    expect(warnings).toEqual([]);
  });

  test("when local stdin had ended, end of file goes again only if the server did not get it", async () => {
    const exec = new FakeExec();
    const { input, done } = start(exec);
    input.end(bytes("all"));
    await exec.handle.handed(2);
    exec.handle.arrive();
    expect(exec.server.count).toEqual({ received: 3, ended: true });
    const second = exec.reconnect(true);
    await settle();
    expect(second.inFlight).toEqual([]);

    // As if the eof had been lost with a connection.
    exec.server.ended = false;
    const third = exec.reconnect(true);
    await third.handed(1);
    expect(third.inFlight).toEqual(["eof"]);
    exec.over();
    await done;
  });

  test("against a server that does not say what it took in: the cut write goes again whole, with a warning", async () => {
    const exec = new FakeExec();
    const { input, warnings, done } = await writeThenCut(exec, "abc", "def", false);
    const second = exec.reconnect(false);
    input.end();
    await second.handed(2);
    second.arrive();
    exec.over();
    await done;
    // "abc" was lost in flight: nothing could tell.
    expect(text(exec.server)).toBe("def");
    expect(warnings).toEqual(["inexact"]);
  });

  test("a count from before what is still held falls back to sending the cut write again whole, with a warning", async () => {
    const exec = new FakeExec();
    const { input, warnings, done } = await writeThenCut(exec, "abc", "def");
    // Below what is held: cannot happen with a server that keeps to its credit.
    const second = exec.reconnect(true, { received: -1, ended: false });
    await second.handed(1);
    expect(second.inFlight).toEqual([bytes("def")]);
    expect(warnings).toEqual(["inexact"]);
    input.end();
    exec.over();
    await done;
  });
});
