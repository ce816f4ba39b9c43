// The bound on stdin that waits for a command, for pipes and terminals alike, through a real server.
import { describe, expect, test } from "bun:test";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { MAX_PENDING_STDIN_BYTES } from "../../src/protocol/limits.ts";
import { useSharedServer } from "../helpers/shared-server.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

type Output = Extract<ServerMessage, { type: "output" }>;

/** Large messages, still well inside the 1 MiB frame limit once in base64. */
const MESSAGE_BYTES = 512 * 1024;

describe.skipIf(noBwrap)("stdin that waits for a command", () => {
  const shared = useSharedServer();

  for (const [kind, options] of [
    ["a pipe", { stdin: true }],
    ["a terminal", { pty: { cols: 80, rows: 24 } }],
  ] as const) {
    test(`is refused with limit_exceeded past 8 MiB, message by message, on ${kind} whose program does not read`, async () => {
      const id = `unread-${"pty" in options ? "pty" : "pipe"}`;
      // A terminal in canonical mode would discard what does not fit in a line: raw mode keeps it waiting.
      shared.client.send({ type: "exec", id, cmd: "stty raw -echo 2>/dev/null; echo ready; exec sleep 4545", ...options });
      expect(await shared.client.next((m) => m.type === "output" && m.id === id)).toMatchObject({ data: "ready\n" });
      const data = Buffer.alloc(MESSAGE_BYTES, "a").toString("base64");
      const messages = 20;
      for (let index = 0; index < messages; index++) shared.client.send({ type: "stdin", id, data, encoding: "base64" });
      // Replies come in order: every refusal is in before the answer to a later request.
      shared.client.send({ type: "list", id: `${id}-list` });
      await shared.client.next((m) => m.type === "execs" && m.id === `${id}-list`);
      const refused = shared.client.takeQueued((m) => m.type === "error" && m.id === id);
      const accepted = MAX_PENDING_STDIN_BYTES / MESSAGE_BYTES;
      expect(refused).toEqual(
        Array.from({ length: messages - accepted }, () => ({
          type: "error",
          id,
          code: "limit_exceeded",
          message: `exec ${JSON.stringify(id)} is not reading its stdin fast enough: too many bytes already wait`,
        })),
      );
      shared.client.send({ type: "signal", id, signal: "SIGKILL" });
      expect((await shared.client.runToExit(id)).exit).toMatchObject({ signal: "SIGKILL", reason: "killed" });
    });
  }

  test("is not counted once a terminal's program has read it: a reader takes more than 8 MiB of keystrokes", async () => {
    // Each message is read whole (cat writes back what it read) before the next is sent, so the
    // terminal takes each write at once, and Bun fires no `drain` for it: the bytes must stop counting
    // as waiting even then. Above a page (Bun buffers smaller writes and drains them), and far below
    // what the terminal takes at once.
    const id = "reader";
    const chunkBytes = 5000;
    shared.client.send({ type: "exec", id, cmd: "stty raw -echo; echo ready; cat", pty: { cols: 80, rows: 24 } });
    const isOutput = (m: ServerMessage) => m.type === "output" && m.id === id;
    expect(((await shared.client.next(isOutput)) as Output).data).toBe("ready\n");
    const data = "a".repeat(chunkBytes);
    let read = 0;
    for (let sent = 0; sent < MAX_PENDING_STDIN_BYTES + 1024 * 1024; sent += chunkBytes) {
      shared.client.send({ type: "stdin", id, data });
      while (read < sent + chunkBytes) {
        const message = await shared.client.next((m) => isOutput(m) || (m.type === "error" && m.id === id));
        expect(message.type).toBe("output");
        read += (message as Output).data.length;
      }
    }
    shared.client.send({ type: "signal", id, signal: "SIGKILL" });
    const rest = await shared.client.runToExit(id);
    expect(rest.errors).toEqual([]);
  }, 30_000);
});

describe.skipIf(noBwrap)("stdin.ack", () => {
  const shared = useSharedServer();

  test("tells the writer every MiB the command has taken, so it can keep under the bound; small writes get none", async () => {
    const id = "acked";
    shared.client.send({ type: "exec", id, argv: ["wc", "-c"], stdin: true });
    const data = Buffer.alloc(MESSAGE_BYTES, "a").toString("base64");
    for (let index = 0; index < 8; index++) shared.client.send({ type: "stdin", id, data, encoding: "base64" });
    shared.client.send({ type: "stdin", id, data: "abc", eof: true });
    const run = await shared.client.runToExit(id);
    expect(run.exit).toMatchObject({ code: 0, reason: "exited" });
    expect(run.stdout).toBe(`${8 * MESSAGE_BYTES + 3}\n`);
    const acks = run.messages.filter((m) => m.type === "stdin.ack");
    expect(acks).toEqual([1, 2, 3, 4].map((mib) => ({ type: "stdin.ack", id, offset: mib * 1024 * 1024 })));
  });
});
