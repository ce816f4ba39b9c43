import type { FileSink } from "bun";

/** What may wait for a reader that has stopped reading (the pipe full) before lines are dropped. */
export const MAX_QUEUED_LOG_BYTES = 4 * 1024 * 1024;

/**
 * A writer of log text to a non-blocking sink: a full pipe queues the text rather than stalling the
 * server. Two ways a reader can fail the server, each found by a hunt:
 * - it goes away (EPIPE: `bunker serve 2>&1 | head`, a collector gone, a closed terminal): the
 *   first failed write, or a flush that was waiting, ended the process with every session in it;
 *   now the log is lost and the server goes on;
 * - it stops reading but stays open: the queue grew with every line (6,000 execs: RSS 47 to
 *   114 MiB); now at most `maxQueuedBytes` wait, later lines are dropped and counted, and the count
 *   is written once the reader has caught up.
 */
export function createLogWriter(open: () => FileSink, maxQueuedBytes = MAX_QUEUED_LOG_BYTES): (text: string) => void {
  let sink: FileSink | undefined;
  let broken = false;
  /** Text written since the sink last had nothing waiting. */
  let queuedBytes = 0;
  let draining = false;
  let dropped = 0;

  const fail = () => {
    broken = true;
  };
  /** Waits until the sink has nothing waiting, then reports what was dropped meanwhile. */
  const waitForDrain = (flushed: Promise<unknown>) => {
    draining = true;
    flushed.then(() => {
      const again: unknown = sink!.flush();
      if (again instanceof Promise) return waitForDrain(again);
      draining = false;
      queuedBytes = 0;
      if (dropped > 0) {
        const count = dropped;
        dropped = 0;
        write(`bunker: ${count} log line${count === 1 ? "" : "s"} dropped: stderr was not being read\n`);
      }
    }, fail);
  };
  const write = (text: string) => {
    if (broken) return;
    if (draining && queuedBytes + text.length > maxQueuedBytes) {
      dropped++;
      return;
    }
    sink ??= open();
    try {
      sink.write(text);
      queuedBytes += text.length;
      const flushed: unknown = sink.flush();
      if (flushed instanceof Promise) {
        if (!draining) waitForDrain(flushed);
        else flushed.catch(fail);
      } else if (!draining) {
        queuedBytes = 0;
      }
    } catch {
      fail();
    }
  };
  return write;
}

/**
 * The server's one writer to fd 2, created on first use. Not process.stderr: creating that Node
 * stream measured 1.5 to 2.5 ms of the binary's start to "listening" and 1.3 MiB of its idle RSS,
 * and the server never needs it. A process.exit drops what is still queued. The logger and serve's
 * token line both write through here, so their lines keep their order.
 */
export const writeStderr = createLogWriter(() => Bun.stderr.writer());
