// The client library against a real server on port 0, under Bun's WebSocket.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BunkerError, connect, type ExecHandle, type Session } from "../../src/client/index.ts";
import { startServer } from "../helpers/server-process.ts";
import { readUntil } from "../helpers/read-until.ts";

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

const open = (options: Parameters<typeof connect>[1] = {}) => connect(server.url, { token: server.token!, ...options });


async function collect(handle: ExecHandle) {
  const [stdout, stderr, exit] = await Promise.all([handle.stdout.readAllText(), handle.stderr.readAllText(), handle.exited]);
  return { stdout, stderr, exit };
}

describe("exec", () => {
  let session: Session;
  beforeAll(async () => {
    session = await open();
  });

  test("connect resolves with the session's hello", () => {
    expect(session.resumed).toBe(false);
    expect(session.workspace.startsWith(server.workspaceRoot)).toBe(true);
    expect(session.resume).toEqual({ session: session.id, secret: session.hello.resumeSecret! });
  });

  test("runs an argv and reports stdout, stderr and the exit facts", async () => {
    const result = await collect(session.exec(["sh", "-c", "echo hello; echo oops >&2"]));
    expect(result).toMatchObject({ stdout: "hello\n", stderr: "oops\n", exit: { code: 0, signal: null, reason: "exited" } });
  });

  test("a byte-order mark in the output is text like any other: readAllText and text() keep it", async () => {
    const printBom = ["printf", "\\357\\273\\277hi"];
    expect((await collect(session.exec(printBom))).stdout).toBe("\uFEFFhi");
    let streamed = "";
    for await (const text of session.exec(printBom).stdout.text()) streamed += text;
    expect(streamed).toBe("\uFEFFhi");
    await session.files.write("bom.txt", "\uFEFFhi");
    expect(await session.files.read("bom.txt")).toBe("\uFEFFhi");
  });

  test("a shell line that exits 3 is an exit, not a rejection", async () => {
    expect((await collect(session.exec("exit 3"))).exit).toMatchObject({ code: 3, signal: null, reason: "exited" });
  });

  test("write and end reach the command's stdin, end of file included", async () => {
    const cat = session.exec(["cat"], { stdin: true });
    await cat.write("abc\n");
    await cat.end(new Uint8Array([0x64, 0x65, 0x66]));
    expect(await collect(cat)).toMatchObject({ stdout: "abc\ndef", exit: { code: 0 } });
  });

  for (const encoding of ["binary", "base64"] as const) {
    test(`every byte value comes back exactly with encoding ${encoding}`, async () => {
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const cat = session.exec(["cat"], { stdin: true, encoding });
      await cat.end(all);
      expect(await cat.stdout.readAll()).toEqual(all);
    });
  }

  test("utf8 output arrives as text, an invalid byte as U+FFFD", async () => {
    const handle = session.exec(["printf", "caf\\303\\251 \\377"], { encoding: "utf8" });
    expect(await handle.stdout.readAllText()).toBe("café \uFFFD");
  });

  test("a signal ends the command's tree, and the exit says killed", async () => {
    const sleeper = session.exec(["sh", "-c", "echo ready; exec sleep 100"]);
    await readUntil(sleeper.stdout[Symbol.asyncIterator](), "ready\n");
    expect(sleeper.signal("SIGINT")).toBe(true);
    expect(await sleeper.exited).toMatchObject({ code: null, signal: "SIGINT", reason: "killed" });
    expect(sleeper.signal("SIGINT")).toBe(false);
  });

  test("a program the server cannot find rejects started and exited with spawn_failed", async () => {
    const handle = session.exec(["no-such-program-here"]);
    const error = await handle.started.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BunkerError);
    expect(error).toMatchObject({ code: "spawn_failed", execId: handle.id });
    await expect(handle.exited).rejects.toBe(error);
    await expect(handle.stdout.readAll()).rejects.toBe(error);
  });

  test("a cwd outside the workspace is refused with the server's code", async () => {
    await expect(session.exec(["pwd"], { cwd: "/etc" }).exited).rejects.toMatchObject({ code: "path_outside_workspace" });
  });

  test("a write after the command exited fails with invalid_state", async () => {
    const handle = session.exec(["true"], { stdin: true });
    await handle.exited;
    await expect(handle.write("late")).rejects.toMatchObject({ code: "invalid_state" });
  });

  test("streams 20 MB through, reading no faster than the reader", async () => {
    const handle = session.exec(["head", "-c", "20000000", "/dev/zero"]);
    let total = 0;
    for await (const chunk of handle.stdout) total += chunk.byteLength;
    expect(total).toBe(20_000_000);
    expect((await handle.exited).code).toBe(0);
  });

  test("with ackWindowBytes, a slow reader holds at most one window of a stream", async () => {
    const window = 64 * 1024;
    const handle = session.exec(["head", "-c", "4000000", "/dev/zero"], { ackWindowBytes: window });
    await handle.started;
    // A reader that does not read for a while: without acknowledgements the whole output would pile up.
    await Bun.sleep(300);
    expect(handle.stdout.bufferedBytes).toBeLessThanOrEqual(window);
    expect((await handle.stdout.readAll()).byteLength).toBe(4_000_000);
    expect(handle.stdout.maxBufferedBytes).toBeLessThanOrEqual(window);
  });

  test("list reports the session's execs", async () => {
    const handle = session.exec(["true"], { id: "listed" });
    await handle.exited;
    const execs = await session.list();
    expect(execs.find((info) => info.id === "listed")).toMatchObject({ id: "listed", argv: ["true"], state: "exited", exit: { code: 0 } });
  });

  test("resending an exec runs nothing again and replays its output through state and attach", async () => {
    const first = session.exec("echo ran-once", { id: "once" });
    expect(await first.stdout.readAllText()).toBe("ran-once\n");
    const again = session.exec("echo ran-once", { id: "once" });
    expect(await again.stdout.readAllText()).toBe("ran-once\n");
    expect(await again.exited).toMatchObject({ code: 0 });
    expect((await session.list()).filter((info) => info.id === "once")).toHaveLength(1);
  });

  test("a different exec with a used id is refused with duplicate_id", async () => {
    await expect(session.exec("echo other", { id: "once" }).exited).rejects.toMatchObject({ code: "duplicate_id" });
  });

  test("close ends the session: the socket closes with 4000", async () => {
    await session.close();
    expect(await session.closed).toEqual({ code: 4000, reason: "session closed" });
    await expect(session.exec(["true"]).exited).rejects.toMatchObject({ code: "connection_closed" });
  });
});

describe("closing", () => {
  test("close ends the session even while an exec waits on a full, unread ack window", async () => {
    const session = await open();
    const handle = session.exec(["seq", "1", "100000000"], { ackWindowBytes: 65536 });
    while (handle.stdout.bufferedBytes < 65536) await Bun.sleep(10);
    await session.close();
    expect(await session.closed).toEqual({ code: 4000, reason: "session closed" });
    await expect(handle.exited).rejects.toMatchObject({ code: "session_closed" });
  });

  test("routable: the session gets an id chosen by the client (for load balancers), and resumes with its secret", async () => {
    const first = await open({ routable: true });
    expect(first.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(first.resumed).toBe(false);
    await first.disconnect();
    await using second = await open({ resume: first.resume });
    expect(second).toMatchObject({ id: first.id, resumed: true });
    expect(() => connect(server.url, { routable: true, name: "x" })).toThrow(TypeError);
  });

  test("disconnect leaves the session on the server: its exec runs on and can be resumed", async () => {
    const first = await open();
    const handle = first.exec(["sh", "-c", "sleep 0.2; echo done"]);
    await handle.started;
    await first.disconnect();
    await expect(handle.exited).rejects.toMatchObject({ code: "connection_closed", closeCode: 1000 });
    await using second = await open({ resume: first.resume });
    const attached = second.attach(handle.id);
    expect(await attached.stdout.readAllText()).toBe("done\n");
    expect(await attached.exited).toMatchObject({ code: 0 });
  });
});

describe("connecting", () => {
  test("a wrong token rejects with connect_failed and says 401", async () => {
    const error = await connect(server.url, { token: "wrong-token-0123456789" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "connect_failed" });
    expect((error as Error).message).toContain("401");
    expect((error as Error).message).not.toContain("wrong-token");
  });

  test("the token works as a subprotocol as well as a header", async () => {
    await using session = await open({ tokenVia: "subprotocol" });
    expect(await session.exec(["echo", "via subprotocol"]).stdout.readAllText()).toBe("via subprotocol\n");
  });

  test("resume after a disconnect: the exec ran on, and attach gets the rest from the offset held", async () => {
    const first = await open();
    const job = first.exec("echo one; read x; echo two $x", { stdin: true, id: "job" });
    const iterator = job.stdout[Symbol.asyncIterator]();
    expect(await readUntil(iterator, "one\n")).toBe("one\n");
    await first.disconnect();

    await using second = await open({ resume: first.resume });
    expect(second.id).toBe(first.id);
    expect(second.resumed).toBe(true);
    expect(second.hello.execs).toMatchObject([{ id: "job", state: "running", bytes: { stdout: 4, stderr: 0 } }]);
    const attached = second.attach("job", { stdout: 4 });
    await attached.write("again\n");
    expect(await attached.stdout.readAllText()).toBe("two again\n");
    expect(await attached.exited).toMatchObject({ code: 0, reason: "exited" });

    const replay = second.attach("job");
    expect(await replay.stdout.readAllText()).toBe("one\ntwo again\n");
  });

  test("a resume with a wrong secret is refused with unknown_session", async () => {
    const session = await open();
    await session.disconnect();
    await expect(open({ resume: { session: session.id, secret: "wrong-secret" } })).rejects.toMatchObject({ code: "unknown_session" });
  });

  test("two connections with one name share the session and its workspace", async () => {
    await using first = await open({ name: "shared-one" });
    await first.exec("echo kept > note").exited;
    await using second = await open({ name: "shared-one" });
    expect(second.resumed).toBe(true);
    expect(second.workspace).toBe(first.workspace);
    expect(await second.exec(["cat", "note"]).stdout.readAllText()).toBe("kept\n");
  });
});

describe("pty", () => {
  test("runs on a terminal of the asked size; resize reaches the program", async () => {
    await using session = await open();
    const handle = session.exec("stty size; read -r line; stty size; echo got $line", { pty: { cols: 100, rows: 30 } });
    expect(await handle.started).toMatchObject({ pty: { cols: 100, rows: 30 } });
    const iterator = handle.stdout[Symbol.asyncIterator]();
    await readUntil(iterator, "30 100\r\n");
    expect(handle.resize({ cols: 120, rows: 40 })).toBe(true);
    await handle.write("hi\r");
    expect(await readUntil(iterator, "got hi\r\n")).toBe("hi\r\n40 120\r\ngot hi\r\n");
    expect(await handle.exited).toMatchObject({ code: 0 });
    expect(await handle.stderr.readAll()).toEqual(new Uint8Array(0));
  });

  test("^C typed into the terminal interrupts the foreground program", async () => {
    await using session = await open();
    // `exec sleep`: the interrupted program is the exec's first process, whose signal the exit reports.
    const handle = session.exec("echo ready; exec sleep 100", { pty: { cols: 80, rows: 24 } });
    await readUntil(handle.stdout[Symbol.asyncIterator](), "ready\r\n");
    await handle.write("\x03");
    expect(await handle.exited).toMatchObject({ code: null, signal: "SIGINT" });
  });
});
