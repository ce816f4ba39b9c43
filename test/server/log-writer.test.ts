/**
 * The log writer against a real pipe whose reader stops reading (a `sleep` given the pipe as its
 * stdin), then goes away. Found by a crash hunt: a stalled reader made the queue grow with every
 * line (6,000 execs: RSS 47 to 114 MiB), and a reader that went away while a flush waited ended
 * the server.
 */
import { expect, test } from "bun:test";
import type { FileSink } from "bun";
import { createLogWriter } from "../../src/server/log-stderr.ts";

const LINE = `${"x".repeat(199)}\n`;
const LIMIT = 256 * 1024;
const PIPE_BYTES = 64 * 1024;

/** A pipe to a process that never reads it until told to, then echoes what it reads. */
function stalledPipe() {
  // `sleep 30; cat`: nothing is read until the test ends the sleep, then everything.
  const reader = Bun.spawn(["sh", "-c", "sleep 30; cat"], { stdin: "pipe", stdout: "pipe" });
  return {
    sink: reader.stdin as FileSink,
    /** Lets the reader go on, and resolves with what it read up to the first match of `until`. */
    async readUntil(until: RegExp): Promise<string> {
      Bun.spawnSync(["pkill", "-P", String(reader.pid), "sleep"]);
      const decoder = new TextDecoder();
      let text = "";
      for await (const chunk of reader.stdout) {
        text += decoder.decode(chunk, { stream: true });
        if (until.test(text)) return text;
      }
      return text;
    },
    kill: () => reader.kill("SIGKILL"),
    exited: reader.exited,
  };
}

test("a reader that stops reading holds at most the limit; the lines past it are counted, and the count comes when it reads again", async () => {
  const pipe = stalledPipe();
  try {
    const write = createLogWriter(() => pipe.sink, LIMIT);
    const lines = 8_000; // 1.6 MB: far past the pipe (64 KiB) and the limit.
    for (let n = 0; n < lines; n++) write(LINE);
    // The writer writes the notice itself once the sink tells it that what waited is through.
    const noticePattern = /bunker: (\d+) log lines dropped: stderr was not being read\n/;
    const text = await pipe.readUntil(noticePattern);
    const kept = text.split("\n").filter((line) => line === LINE.trimEnd()).length;
    const notice = noticePattern.exec(text);
    expect(notice).not.toBeNull();
    // What the pipe took before it was full (64 KiB, the kernel's), plus at most the limit queued here.
    expect(kept * LINE.length).toBeLessThanOrEqual(PIPE_BYTES + LIMIT + LINE.length);
    expect(kept * LINE.length).toBeGreaterThanOrEqual(LIMIT);
    expect(kept + Number(notice![1])).toBe(lines);
  } finally {
    pipe.kill();
  }
});

test("a reader that goes away while a flush waits costs the log, not the process", async () => {
  const pipe = stalledPipe();
  const write = createLogWriter(() => pipe.sink, LIMIT);
  for (let n = 0; n < 1_000; n++) write(LINE);
  pipe.kill();
  await pipe.exited;
  // Writes after the reader is gone neither throw nor end the process (an unhandled rejection would fail this test).
  for (let n = 0; n < 1_000; n++) write(LINE);
  await Bun.sleep(50);
  expect(true).toBe(true);
});
