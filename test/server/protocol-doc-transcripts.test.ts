// The transcripts of docs/PROTOCOL.md, replayed frame by frame against a real server.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerMessage } from "../../src/protocol/index.ts";
import { connect, type BinaryFrame, type TestClient } from "../helpers/client.ts";
import { startServer } from "../helpers/server-process.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

type Output = Extract<ServerMessage, { type: "output" }>;
type Received = ServerMessage | BinaryFrame;

const PROTOCOL_MD = readFileSync(join(import.meta.dir, "..", "..", "docs", "PROTOCOL.md"), "utf8");

/** One `>` frame of a transcript and the `<` frames that follow it. */
interface TranscriptStep {
  send?: Record<string, unknown>;
  expect: (Record<string, unknown> | BinaryFrame | { type: "close"; code: number; reason: string })[];
}

/** The `>` and `<` lines of a transcript section, grouped by the client frame they follow. */
function transcriptSteps(heading: string): TranscriptStep[] {
  const section = PROTOCOL_MD.split(`\n${heading}\n`)[1]!.split("\n### ")[0]!;
  const steps: TranscriptStep[] = [{ expect: [] }];
  for (const line of section.split("\n")) {
    if (line.startsWith("> {")) steps.push({ send: JSON.parse(line.slice(2)), expect: [] });
    else if (line.startsWith("< {")) steps.at(-1)!.expect.push(JSON.parse(line.slice(2)));
    else if (line.startsWith("< binary ")) {
      steps.at(-1)!.expect.push({ type: "binary", bytes: Uint8Array.from(line.slice(9).split(" ").map((byte) => Number.parseInt(byte, 16))) });
    } else if (line.startsWith("< close ")) {
      const [, code, reason] = /^< close (\d+)(?: "(.*)")?$/.exec(line)!;
      steps.at(-1)!.expect.push({ type: "close", code: Number(code), reason: reason ?? "" });
    }
  }
  return steps;
}

/** What varies from run to run: pids, times and durations. */
function varying(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(varying);
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [key, ["pid", "startedAt", "durationMs"].includes(key) && typeof field === "number" ? expect.any(Number) : varying(field)]),
  );
}

/**
 * Sends a transcript's client frames in order and checks the server's answer to each: the same
 * messages in the same order, but output compared as the bytes of each stream (how the bytes are
 * cut into chunks, and how stdout and stderr interleave, vary from run to run).
 */
async function replay(client: TestClient, steps: TranscriptStep[]): Promise<void> {
  const encodings = new Map<string, string>();
  const bytesOf = (message: Output) => Buffer.from(message.data, encodings.get(message.id) === "base64" ? "base64" : "utf8");
  const hello = steps[0]!.expect[0] as Record<string, unknown>;
  expect(client.hello).toEqual({
    ...hello,
    session: client.hello.session,
    resumeSecret: client.hello.resumeSecret,
    viewSecret: client.hello.viewSecret,
    connection: client.hello.connection,
    host: client.hello.host,
    workspace: client.hello.workspace,
    sandbox: expect.objectContaining(hello["sandbox"] as object),
  } as never);
  for (const step of steps.slice(1)) {
    const sent = step.send!;
    if (sent["type"] === "exec") encodings.set(String(sent["id"]), String(sent["encoding"] ?? "utf8"));
    client.ws.send(JSON.stringify(sent));
    const expected = step.expect.map((message) => (message.type === "closed" ? { ...message, session: client.hello.session } : message));
    const want = { frames: expected.filter((m) => m.type !== "output" && m.type !== "close"), output: new Map<string, Buffer>() };
    for (const message of expected.filter((m): m is Output => m.type === "output")) {
      const key = `${message.id} ${message.stream}`;
      want.output.set(key, Buffer.concat([want.output.get(key) ?? Buffer.alloc(0), bytesOf(message)]));
    }
    const got = { frames: [] as Received[], output: new Map<string, Buffer>(), firstOffsets: new Map<string, number>() };
    const outputDone = () => [...want.output].every(([key, bytes]) => (got.output.get(key)?.length ?? 0) >= bytes.length);
    while (got.frames.length < want.frames.length || !outputDone()) {
      const message: Received = await client.next();
      if (message.type !== "output") {
        got.frames.push(message);
        continue;
      }
      const key = `${message.id} ${message.stream}`;
      if (!got.firstOffsets.has(key)) got.firstOffsets.set(key, message.offset);
      got.output.set(key, Buffer.concat([got.output.get(key) ?? Buffer.alloc(0), bytesOf(message)]));
    }
    expect({ after: sent, frames: got.frames }).toEqual({ after: sent, frames: varying(want.frames) as Received[] });
    expect({ after: sent, output: Object.fromEntries(got.output) }).toEqual({ after: sent, output: Object.fromEntries(want.output) });
    for (const message of expected.filter((m): m is Output => m.type === "output")) {
      const key = `${message.id} ${message.stream}`;
      if (want.output.has(key) && message === expected.find((m) => m.type === "output" && `${(m as Output).id} ${(m as Output).stream}` === key)) {
        expect(got.firstOffsets.get(key)).toBe(message.offset);
      }
    }
    const close = expected.find((m) => m.type === "close");
    if (close) expect(await client.closed).toEqual({ code: (close as { code: number }).code, reason: (close as { reason: string }).reason });
  }
}

describe.skipIf(noBwrap)("the transcripts of docs/PROTOCOL.md replay against a real server", () => {
  test("One session", async () => {
    await using server = await startServer();
    await using client = await connect(server);
    await replay(client, transcriptSteps("### One session"));
  }, 30_000);

  test("A PTY exec", async () => {
    await using server = await startServer();
    await using client = await connect(server);
    // This transcript starts after the hello of the first one.
    await replay(client, [transcriptSteps("### One session")[0]!, ...transcriptSteps("### A PTY exec").slice(1)]);
  }, 30_000);
});
