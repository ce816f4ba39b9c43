import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { decodeOutputHeader, PADDED_HEADER_BYTES } from "../../src/protocol/index.ts";
import { connect, type BinaryFrame, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { countProcessesEndingWith, pollProc } from "../helpers/proc.ts";

type Output = Extract<ServerMessage, { type: "output" }>;

/** Reads an exec's terminal output until `pattern` shows up; returns everything read so far. */
async function readUntil(client: TestClient, id: string, pattern: RegExp, seen = { text: "" }): Promise<string> {
  while (!pattern.test(seen.text)) {
    const message = await client.next((m) => (m.type === "output" || m.type === "exit") && m.id === id);
    if (message.type === "exit") throw new Error(`exec ended before ${pattern}: ${JSON.stringify(seen.text)}`);
    seen.text += (message as Output).data;
  }
  return seen.text;
}

describe.skipIf(noBwrap)("PTY execs under bwrap", () => {
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    server = await startServer();
    client = await connect(server);
  });
  afterAll(async () => {
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
  });

  test("runs on a terminal of the asked size, with TERM set, and reports the exit code", async () => {
    const transcript = await client.exec({ id: "size", cmd: "tty; stty size; echo $TERM; exit 3", pty: { cols: 120, rows: 40 } });
    expect(transcript.messages[0]).toMatchObject({ type: "started", pty: { cols: 120, rows: 40 } });
    // bwrap binds the terminal as /dev/console inside.
    expect(transcript.stdout).toMatch(/^\/dev\/(console|pts\/\d+)\r\n40 120\r\nxterm-256color\r\n$/);
    expect(transcript.stderr).toBe("");
    expect(transcript.exit).toMatchObject({ code: 3, reason: "exited" });
  });

  test("the terminal tty names can be opened by the command (written to, and read by ttyname's users)", async () => {
    // Root's before (the server's, mode 0620): under run-as 65534 `echo > $(tty)` was EACCES (a review).
    const transcript = await client.exec({ id: "own-tty", cmd: 'echo through-the-name > "$(tty)" && test -w "$(tty)" && test -r "$(tty)" && echo writable', pty: { cols: 80, rows: 24 } });
    expect(transcript.stdout).toBe("through-the-name\r\nwritable\r\n");
    expect(transcript.exit).toMatchObject({ code: 0 });
  });

  test("resize changes the window and the program gets SIGWINCH", async () => {
    client.send({ type: "exec", id: "winch", cmd: "trap 'stty size' WINCH; echo ready; while :; do sleep 0.05; done", pty: { cols: 80, rows: 24 } });
    const seen = { text: "" };
    await readUntil(client, "winch", /ready/, seen);
    client.send({ type: "resize", id: "winch", cols: 90, rows: 33 });
    await readUntil(client, "winch", /33 90/, seen);
    client.send({ type: "signal", id: "winch", signal: "SIGKILL" });
    await client.runToExit("winch");
  });

  test("Ctrl-C interrupts the foreground job of an interactive bash, which goes on (job control works)", async () => {
    client.send({ type: "exec", id: "bash", argv: ["bash", "--norc", "--noprofile", "-i"], pty: { cols: 100, rows: 30 }, env: { PS1: "prompt> " } });
    const seen = { text: "" };
    await readUntil(client, "bash", /prompt> $/, seen);
    client.send({ type: "stdin", id: "bash", data: "sleep 4321\r" });
    await readUntil(client, "bash", /sleep 4321\r\n/, seen);
    // The keystroke must reach the job, not bash before the fork: wait until sleep runs.
    await pollProc(() => countProcessesEndingWith("4321") > 0);
    client.send({ type: "stdin", id: "bash", data: "\x03" });
    // bash turns bracketed paste on around its prompt: \e[?2004h.
    await readUntil(client, "bash", /\^C\r\n(\x1b\[\?2004h)?prompt> $/, seen);
    client.send({ type: "stdin", id: "bash", data: "echo alive-$((40+2))\r" });
    await readUntil(client, "bash", /alive-42\r\n/, seen);
    client.send({ type: "stdin", id: "bash", data: "exit 7\r" });
    const rest = await client.runToExit("bash");
    expect(seen.text + rest.stdout).not.toContain("no job control");
    expect(rest.exit).toMatchObject({ code: 7, reason: "exited" });
  });

  test("Ctrl-C ends a shell waiting on its child with SIGINT, every time (never a hangup from bwrap)", async () => {
    for (let round = 0; round < 5; round++) {
      const id = `intr-${round}`;
      client.send({ type: "exec", id, cmd: "echo ready; sleep 100", pty: { cols: 80, rows: 24 } });
      await readUntil(client, id, /ready/);
      await pollProc(() => countProcessesEndingWith("100") > 0);
      client.send({ type: "stdin", id, data: "\x03" });
      const rest = await client.runToExit(id);
      expect(rest.exit).toMatchObject({ code: null, signal: "SIGINT", reason: "signaled" });
    }
  });

  test("a Ctrl-C sent with the exec, before the command has its terminal, still interrupts it", async () => {
    for (let round = 0; round < 5; round++) {
      const id = `early-intr-${round}`;
      // No wait for anything: the stdin comes while the sandbox is still being made.
      client.send({ type: "exec", id, argv: ["sleep", "100"], pty: { cols: 80, rows: 24 } });
      client.send({ type: "stdin", id, data: "\x03" });
      const run = await client.runToExit(id);
      expect(run.exit).toMatchObject({ code: null, signal: "SIGINT", reason: "signaled" });
    }
  });

  test("keystrokes and an editor-style raw read arrive as raw bytes", async () => {
    client.send({ type: "exec", id: "raw", cmd: "stty raw -echo; head -c 3 | od -An -tx1; stty sane", pty: { cols: 80, rows: 24 } });
    await client.next((m) => m.type === "started" && m.id === "raw");
    client.send({ type: "stdin", id: "raw", data: "\x1b[A" });
    const transcript = await client.runToExit("raw");
    expect(transcript.stdout).toContain("1b 5b 41");
  });

  test("binary encoding sends a header frame then the raw bytes", async () => {
    client.send({ type: "exec", id: "bin", cmd: "printf 'ab\\001'", pty: { cols: 80, rows: 24 }, encoding: "binary" });
    const header = (await client.next((m) => (m as unknown as BinaryFrame).type === "binary")) as unknown as BinaryFrame;
    expect(decodeOutputHeader(header.bytes)).toEqual({ id: "bin", stream: "stdout", offset: 0 });
    const payload = (await client.next((m) => (m as unknown as BinaryFrame).type === "binary")) as unknown as BinaryFrame;
    expect([...payload.bytes]).toEqual([0x61, 0x62, 0x01]);
    expect((await client.next((m) => m.type === "exit" && m.id === "bin")).type).toBe("exit");
  });

  test("binary encoding pads the headers of large chunks, and the bytes arrive whole and in order", async () => {
    const total = 1_000_000;
    client.send({ type: "exec", id: "big-bin", cmd: `head -c ${total} /dev/urandom | tee big.bin`, encoding: "binary" });
    const received: Uint8Array[] = [];
    let offset = 0;
    let padded = 0;
    for (;;) {
      const frame = (await client.next((m) => (m as unknown as BinaryFrame).type === "binary" || (m.type === "exit" && m.id === "big-bin"))) as unknown as BinaryFrame | ServerMessage;
      if (frame.type !== "binary") break;
      const header = decodeOutputHeader(frame.bytes);
      const payload = (await client.next((m) => (m as unknown as BinaryFrame).type === "binary")) as unknown as BinaryFrame;
      if (header?.stream !== "stdout") continue;
      expect(header).toEqual({ id: "big-bin", stream: "stdout", offset });
      // Large chunks come with a padded header, small ones with the short form.
      expect(frame.bytes.byteLength).toBe(payload.bytes.byteLength >= 16 * 1024 ? PADDED_HEADER_BYTES : 11 + "big-bin".length);
      if (frame.bytes.byteLength === PADDED_HEADER_BYTES) padded++;
      received.push(payload.bytes);
      offset += payload.bytes.byteLength;
    }
    expect(offset).toBe(total);
    expect(padded).toBeGreaterThan(0);
    const file = await Bun.file(`${client.hello!.workspace}/big.bin`).bytes();
    expect(Buffer.concat(received).equals(Buffer.from(file))).toBe(true);
  });

  test("a yes flood into a client that stops acknowledging is held: the log stops growing and nothing is lost", async () => {
    const window = 64 * 1024;
    client.send({ type: "exec", id: "yes", argv: ["yes"], pty: { cols: 80, rows: 24 }, ackWindowBytes: window });
    let received = 0;
    while (received < window) {
      const message = (await client.next((m) => m.type === "output" && m.id === "yes")) as Output;
      expect(message.offset).toBe(received);
      received += message.data.length;
    }
    expect(received).toBe(window);
    // The terminal is paused with ^S once the log is full: produced bytes stop near window + log.
    let produced = 0;
    for (let round = 0; produced < window + 1024 * 1024; round++) {
      client.send({ type: "list", id: `y${round}` });
      const reply = (await client.next((m) => m.type === "execs" && m.id === `y${round}`)) as Extract<ServerMessage, { type: "execs" }>;
      produced = reply.execs.find((exec) => exec.id === "yes")!.bytes.stdout;
    }
    await Bun.sleep(300); // An observation window: nothing should happen in it.
    client.send({ type: "list", id: "after" });
    const after = (await client.next((m) => m.type === "execs" && m.id === "after")) as Extract<ServerMessage, { type: "execs" }>;
    const producedAfter = after.execs.find((exec) => exec.id === "yes")!.bytes.stdout;
    // ^S takes effect within milliseconds of a flood at hundreds of MB/s: allow a few MiB of overshoot.
    expect(producedAfter).toBeLessThan(window + 8 * 1024 * 1024);
    // What the terminal already buffered (its line discipline and flip buffers, up to about 64 KiB
    // each) may still come after ^S, more of it on a loaded machine; a flood would be megabytes.
    expect(producedAfter - produced).toBeLessThan(256 * 1024);
    // Acknowledging lets it flow again, from exactly where it stopped.
    client.send({ type: "ack", id: "yes", stream: "stdout", offset: received });
    const next = (await client.next((m) => m.type === "output" && m.id === "yes")) as Output;
    expect(next.offset).toBe(received);
    client.send({ type: "signal", id: "yes", signal: "SIGKILL" });
    client.send({ type: "detach", id: "yes" });
  });
});

