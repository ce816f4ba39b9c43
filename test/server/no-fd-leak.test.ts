/**
 * An agent runs thousands of commands through one server: no kind of exec may leave a file
 * descriptor behind in the server. Found by profiling: under --sandbox none every exec left one
 * socket open (a pipe at fd 3 that nothing read or closed), so the server grew by one fd per
 * command until it hit its open-file limit, and every later spawn paid for closing them all.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { startServer } from "../helpers/server-process.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { connect as connectLibrary, type Session } from "../../src/client/index.ts";

const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** One of each kind of exec, each run to its exit. */
async function runEveryKind(client: TestClient, round: number): Promise<void> {
  const id = (name: string) => `${name}-${round}`;
  expect((await client.exec({ id: id("plain"), argv: ["echo", "hi"] })).stdout).toBe("hi\n");
  expect((await client.exec({ id: id("both-streams"), cmd: "echo out; echo err >&2; exit 3" })).exit.code).toBe(3);

  client.send({ type: "exec", id: id("stdin"), argv: ["cat"], stdin: true });
  client.send({ type: "stdin", id: id("stdin"), data: "fed\n", eof: true });
  expect((await client.runToExit(id("stdin"))).stdout).toBe("fed\n");

  expect((await client.exec({ id: id("pty"), argv: ["echo", "tty"], pty: { cols: 80, rows: 24 } })).stdout).toContain("tty");
  expect((await client.exec({ id: id("timeout"), argv: ["sleep", "30"], timeoutMs: 100 })).exit.reason).toBe("timeout");
  expect((await client.exec({ id: id("missing"), argv: ["/no/such/program"] })).exit.code).toBe(127);
  expect((await client.exec({ id: id("shell"), cmd: "echo kept", shell: "main" })).stdout).toBe("kept\n");
}

/** One of each file operation, a download left half-read and a watch among them. */
async function runEveryFileOperation({ files }: Session, round: number): Promise<void> {
  const dir = `leak-${round}`;
  await files.write(`${dir}/a.txt`, "hello");
  expect(await files.read(`${dir}/a.txt`)).toBe("hello");
  await files.move(`${dir}/a.txt`, `${dir}/b.txt`);
  expect((await files.list(dir)).length).toBe(1);
  const big = new Uint8Array(6 * 1024 * 1024).fill(round);
  await files.upload(`${dir}/big.bin`, big);
  let downloaded = 0;
  for await (const part of files.download(`${dir}/big.bin`)) downloaded += part.byteLength;
  expect(downloaded).toBe(big.byteLength);
  // Left after its first chunk: the server's file must still be closed.
  for await (const part of files.download(`${dir}/big.bin`, { ackWindowBytes: 65536 })) if (part.byteLength > 0) break;
  const watch = await files.watch(dir, { recursive: true });
  await files.write(`${dir}/c.txt`, "x");
  for await (const event of watch) if (event.path === `${dir}/c.txt`) break;
  await watch.close();
  await files.remove(dir, { recursive: true });
}

const backends = [
  { name: "none", skip: false },
  { name: "bwrap", skip: noBwrap },
];

describe.each(backends)("with --sandbox $name, the server's open files", ({ name, skip }) => {
  test.skipIf(skip)("are as many after every kind of exec and file operation, run again and again, as after the first round", async () => {
    await using server = await startServer({ args: ["--sandbox", name] });
    await using client = await connect(server);
    await using session = await connectLibrary(server.url, { token: server.token! });
    // The first round opens what stays open by design: the persistent shell, lazily made files.
    await runEveryKind(client, 0);
    await runEveryFileOperation(session, 0);
    const settled = openFds(server.pid);
    for (let round = 1; round <= 3; round++) {
      await runEveryKind(client, round);
      await runEveryFileOperation(session, round);
    }
    expect(openFds(server.pid)).toBe(settled);
  });
});
