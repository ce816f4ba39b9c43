// `bunker exec` across dropped connections: a real server, reached through a TCP proxy that the
// test cuts (a network drop: no close frame, 1006 at both ends) and, for some tests, keeps shut.
import type { FileSink } from "bun";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { connect } from "../../src/client/index.ts";
import { createRandom } from "../helpers/random.ts";
import { BUN, REPO_ROOT, startServer } from "../helpers/server-process.ts";
import { sha256Hex } from "../helpers/sha256.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { startLaggingProxy } from "../helpers/lagging-proxy.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

const MAIN = join(REPO_ROOT, "src", "main.ts");
const baseEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root" };
const RECONNECTING = /^bunker: the connection was lost \(1006\); reconnecting to session "([^"]+)" to follow exec "([^"]+)"\.\.\.$/;
const RECONNECTED = "bunker: reconnected; the output goes on from where it stopped";

/** `bunker exec ARGS` against the server through the proxy on `port`, its stdout read only when asked. */
function spawnThrough(port: number, args: string[], stdin: "ignore" | "pipe" = "ignore") {
  const proc = Bun.spawn([BUN, MAIN, "exec", ...args], {
    env: { ...baseEnv, BUNKER_URL: `ws://127.0.0.1:${port}/ws`, BUNKER_TOKEN: server.token! },
    stdin,
    stdout: "pipe",
    stderr: "pipe",
  });
  return { proc, stdout: pacedReader(proc.stdout), stderr: textWatcher(proc.stderr) };
}

/**
 * Reads a stream only when told to: while the test does not read, bunker cannot write, stops
 * acknowledging, and the server holds the command back. So a cut made between reads is a cut
 * mid-stream, with the command still running.
 */
function pacedReader(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const readOne = async () => {
    const { done, value } = await reader.read();
    if (done) return false;
    chunks.push(value);
    total += value.byteLength;
    return true;
  };
  const text = () => new TextDecoder().decode(Buffer.concat(chunks));
  return {
    async readUntil(bytes: number) {
      while (total < bytes) if (!(await readOne())) throw new Error(`stdout ended at ${total} bytes, before ${bytes}`);
    },
    async readUntilText(pattern: RegExp) {
      while (!pattern.test(text())) if (!(await readOne())) throw new Error(`stdout ended without ${pattern}: ${JSON.stringify(text())}`);
    },
    async readToEnd(): Promise<string> {
      while (await readOne());
      return text();
    },
  };
}

/** Collects a stream's text as it comes; `waitForLine` resolves once `count` lines match. */
function textWatcher(stream: ReadableStream<Uint8Array>) {
  let text = "";
  let ended = false;
  const waiters = new Set<() => void>();
  const done = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      for (const wake of waiters) wake();
    }
    ended = true;
    for (const wake of waiters) wake();
  })();
  const lines = () => text.split("\n").filter(Boolean);
  return {
    lines,
    done,
    waitForLine(pattern: RegExp | string, count = 1): Promise<void> {
      const matches = () => lines().filter((line) => (typeof pattern === "string" ? line === pattern : pattern.test(line))).length >= count;
      return new Promise((resolve, reject) => {
        const check = () => {
          if (matches()) {
            waiters.delete(check);
            resolve();
          } else if (ended) {
            waiters.delete(check);
            reject(new Error(`stderr ended without ${count} lines matching ${pattern}: ${JSON.stringify(text)}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Where two long texts first differ, with a little context; undefined when they are equal. */
function firstDifference(actual: string, expected: string) {
  if (actual === expected) return undefined;
  let i = 0;
  while (i < actual.length && actual[i] === expected[i]) i++;
  return { offset: i, actualLength: actual.length, expectedLength: expected.length, got: actual.slice(i - 20, i + 40), want: expected.slice(i - 20, i + 40) };
}

const sequence = (count: number) => Array.from({ length: count }, (_, i) => `${i + 1}\n`).join("");

describe("bunker exec when the connection drops", () => {
  test("reconnects and resumes the output where it stopped: stdout is the whole sequence, byte for byte, and the exit code is the command's", async () => {
    await using proxy = await startTcpProxy(server.port);
    // ~21 MB: far more than the 4 MiB ack window and the server's 1 MiB log can hold ahead of the reader.
    const { proc, stdout, stderr } = spawnThrough(proxy.port, ["--", "sh", "-c", "seq 1 3000000; exit 3"]);
    await stdout.readUntil(1_000_000);
    proxy.dropAll();
    await stderr.waitForLine(RECONNECTED);
    await stdout.readUntil(8_000_000);
    proxy.dropAll();
    await stderr.waitForLine(RECONNECTED, 2);
    const text = await stdout.readToEnd();
    expect(await proc.exited).toBe(3);
    await stderr.done;

    expect(firstDifference(text, sequence(3_000_000))).toBeUndefined();
    const [first, , second] = stderr.lines();
    expect(stderr.lines()).toEqual([expect.stringMatching(RECONNECTING), RECONNECTED, expect.stringMatching(RECONNECTING), RECONNECTED]);
    // Both times the same session and exec.
    expect(RECONNECTING.exec(first!)!.slice(1)).toEqual(RECONNECTING.exec(second!)!.slice(1));
  }, 60_000);

  test("after a reconnect, stdin and signals still reach the command", async () => {
    await using proxy = await startTcpProxy(server.port);
    const { proc, stdout, stderr } = spawnThrough(proxy.port, ["--", "sh", "-c", "read line; echo got-$line; read line; echo got-$line; echo ready; exec sleep 100"], "pipe");
    const input = proc.stdin as FileSink;
    input.write("one\n");
    input.flush();
    await stdout.readUntilText(/got-one\n/);
    proxy.dropAll();
    await stderr.waitForLine(RECONNECTED);
    input.write("two\n");
    input.flush();
    await stdout.readUntilText(/ready\n/);
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(130);
    expect(await stdout.readToEnd()).toBe("got-one\ngot-two\nready\n");
  }, 30_000);

  test("piped stdin arrives exactly across cuts mid-transfer, also the bytes the dead connection had taken: the command reads every byte once, in order, and nothing is warned", async () => {
    await using proxy = await startLaggingProxy(server.port);
    // 30 MB that never repeats: a chunk lost, doubled or misplaced changes the hash (and usually the count).
    const input = createRandom(20_240_611).bytes(30_000_000);
    const proc = Bun.spawn([BUN, MAIN, "exec", "--", "sh", "-c", "tee stdin.bin | sha256sum; wc -c < stdin.bin; rm stdin.bin"], {
      env: { ...baseEnv, BUNKER_URL: `ws://127.0.0.1:${proxy.port}/ws`, BUNKER_TOKEN: server.token! },
      stdin: new Blob([input]),
      stdout: "pipe",
      stderr: "pipe",
    });
    const stderr = textWatcher(proc.stderr);

    // Each cut once the connection has passed another 1.5 MB of bunker's to the server (so that
    // bunker is well into sending, its credit granted). A lagged cut first has the proxy keep back
    // the newest 128 KiB that bunker sent: handed over, never to arrive. A plain one cuts whatever
    // is on the way.
    const lagged = [false, true, false, true, true];
    for (const [i, lag] of lagged.entries()) {
      await proxy.passed(1_500_000);
      // Stdin ending before the lag fills would be a cut after the transfer.
      if (lag) expect(await Promise.race([proxy.lag(128 * 1024).then(() => "kept back"), proc.exited.then(() => "exited")])).toBe("kept back");
      proxy.dropAll();
      await stderr.waitForLine(RECONNECTED, i + 1);
    }
    const stdout = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    await stderr.done;

    expect(stdout).toBe(`${sha256Hex(input)}  -\n${input.byteLength}\n`);
    expect(stderr.lines()).toEqual(lagged.flatMap(() => [expect.stringMatching(RECONNECTING), RECONNECTED]));
  }, 60_000);

  test("a session that ended while disconnected: exit 255, naming the session and the exec", async () => {
    await using proxy = await startTcpProxy(server.port);
    const { proc, stdout, stderr } = spawnThrough(proxy.port, ["--name", "reconnect-gone", "--", "sh", "-c", "echo ready; exec sleep 100"]);
    await stdout.readUntilText(/ready\n/);
    proxy.cut();
    await stderr.waitForLine(RECONNECTING);
    const [, sessionId, execId] = RECONNECTING.exec(stderr.lines()[0]!)!;
    // The session ends (another client closes it) while bunker cannot get through.
    const other = await connect(server.url, { token: server.token!, name: "reconnect-gone" });
    expect(other.id).toBe(sessionId!);
    await other.close();
    proxy.setOpen(true);

    expect(await proc.exited).toBe(255);
    await stderr.done;
    expect(stderr.lines()).toEqual([
      stderr.lines()[0]!,
      `bunker: the connection was lost, and session "${sessionId}" is gone from the server (unknown_session), exec "${execId}" with it: its outcome is unknown`,
    ]);
  }, 30_000);

  test("when the attempts run out: exit 255, naming the session and the exec, which runs on", async () => {
    await using proxy = await startTcpProxy(server.port);
    const { proc, stdout, stderr } = spawnThrough(proxy.port, ["--name", "reconnect-timeout", "--reconnect-timeout-ms", "1500", "--", "sh", "-c", "echo ready; exec sleep 100"]);
    await stdout.readUntilText(/ready\n/);
    proxy.cut();
    expect(await proc.exited).toBe(255);
    await stderr.done;
    expect(proxy.refused).toBeGreaterThan(1);
    const [notice, verdict] = stderr.lines();
    const [, sessionId, execId] = RECONNECTING.exec(notice!)!;
    expect(verdict).toStartWith("bunker: could not reconnect within 1.5 s (");
    expect(verdict).toEndWith(`); exec "${execId}" may still be running in session "${sessionId}" on the server`);
    expect(stderr.lines()).toHaveLength(2);

    // It does: the named session still has it running.
    await using other = await connect(server.url, { token: server.token!, name: "reconnect-timeout" });
    expect((await other.list()).find((info) => info.id === execId)?.state).toBe("running");
  }, 30_000);

  test("--reconnect-timeout-ms 0 gives up at once with the same naming", async () => {
    await using proxy = await startTcpProxy(server.port);
    const { proc, stdout, stderr } = spawnThrough(proxy.port, ["--reconnect-timeout-ms", "0", "--", "sh", "-c", "echo ready; exec sleep 100"]);
    await stdout.readUntilText(/ready\n/);
    proxy.dropAll();
    expect(await proc.exited).toBe(255);
    await stderr.done;
    expect(stderr.lines()).toEqual([
      expect.stringMatching(/^bunker: the connection was lost \(1006\), and --reconnect-timeout-ms 0 says not to reconnect: exec "[^"]+" may still be running in session "[^"]+" on the server$/),
    ]);
  }, 30_000);
});
