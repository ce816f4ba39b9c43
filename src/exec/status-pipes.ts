import { closeSync } from "node:fs";

/** What bwrap's --json-status-fd tells about the sandbox it made. */
export interface BwrapStatus {
  /** Host pid of the namespace's pid 1. */
  childPid: number;
  pidNamespace: number;
}

/**
 * Reads a pipe fd to its end, handing each chunk to `onChunk`, then closes it. Spawn's extra pipes
 * are non-blocking, which node:fs streams do not handle (EAGAIN); Bun's file streams do.
 */
async function readFd(fd: number, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  try {
    for await (const chunk of Bun.file(fd).stream()) onChunk(chunk);
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
  }
}

/** Reads a pipe fd to its end and closes it. */
export async function readFdToEnd(fd: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await readFd(fd, (chunk) => chunks.push(chunk));
  return chunks.length === 1 ? chunks[0]! : new Uint8Array(Buffer.concat(chunks));
}

/**
 * Reads bwrap's JSON status lines. Calls `onStarted` as soon as the first line (child pid and
 * namespaces) arrives, since killing the sandbox depends on it; resolves at end of file.
 */
export async function readBwrapStatus(fd: number, onStarted: (status: BwrapStatus) => void): Promise<void> {
  let buffered = "";
  let started = false;
  const decoder = new TextDecoder();
  await readFd(fd, (chunk) => {
    if (started) return;
    buffered += decoder.decode(chunk, { stream: true });
    const newline = buffered.indexOf("\n");
    if (newline < 0) return;
    started = true;
    try {
      const line = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
      const childPid = line["child-pid"];
      const pidNamespace = line["pid-namespace"];
      if (typeof childPid === "number" && typeof pidNamespace === "number") onStarted({ childPid, pidNamespace });
    } catch {
      // bwrap wrote something else; without a pid the sandbox cannot have started.
    }
  });
}
