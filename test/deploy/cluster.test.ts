import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { HelloMessage, OutputMessage, ServerMessage } from "../../src/protocol/index.ts";
import { REPO_ROOT, startServer, type TestServer } from "../helpers/server-process.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";
import { CLUSTER_CONF, clusterNginxMissing, startClusterNginx, type ClusterNginx } from "./helpers/cluster-nginx.ts";
import { connect } from "../helpers/client.ts";

const missing = clusterNginxMissing();
if (missing && process.env["REQUIRE_SANDBOX"] === "1") throw new Error(`REQUIRE_SANDBOX=1 but ${missing}`);
if (missing) console.warn(`skipping the cluster tests: ${missing}`);

const HOST_IDS = ["a", "b", "c"] as const;
type HostId = (typeof HOST_IDS)[number];
const SESSION_COUNT = 30;
const STREAM_ID = "stream";

/** What a session's stream exec prints: a file naming the session, then output on both sides of a pause. */
const STREAM_SCRIPT = [
  'printf %s "$1" > owner.txt',
  'seq -f "$1-%g" 1 3000',
  String.raw`printf '\303\251\377\n'`,
  // Output that is produced while the client is cut off, or after it is back.
  "sleep 1",
  'seq -f "$1-%g" 3001 6000',
].join("; ");

function seqLines(prefix: string, from: number, to: number): string {
  let text = "";
  for (let i = from; i <= to; i++) text += `${prefix}-${i}\n`;
  return text;
}

function expectedStream(name: string): Buffer {
  return Buffer.concat([Buffer.from(seqLines(name, 1, 3000)), Buffer.from([0xc3, 0xa9, 0xff, 0x0a]), Buffer.from(seqLines(name, 3001, 6000))]);
}

/** A session the test opened: its name is its id and its routing key. */
interface OpenedSession {
  name: string;
  hello: HelloMessage;
  expected: Buffer;
}

/** Output chunks in arrival order, checked to be contiguous from `from`. */
function joinOutputs(messages: readonly ServerMessage[], from: number): { bytes: Buffer; contiguous: boolean } {
  const chunks: Buffer[] = [];
  let offset = from;
  let contiguous = true;
  for (const message of messages) {
    if (message.type !== "output" || message.id !== STREAM_ID) continue;
    const output = message as OutputMessage;
    if (output.stream !== "stdout" || output.offset !== offset) contiguous = false;
    const chunk = Buffer.from(output.data, "base64");
    chunks.push(chunk);
    offset += chunk.byteLength;
  }
  return { bytes: Buffer.concat(chunks), contiguous };
}

/**
 * The test client through nginx's TLS, keeping its first message: `hello`, or the `error` of a
 * refusal, which is what a resume of a session on a dead host gets.
 */
async function connectTls(url: string, options: { ca: string; token: string; query?: Record<string, string>; protocols?: string[] }) {
  const client = await connect(
    { url, token: options.token },
    { ca: options.ca, waitForHello: false, ...(options.query && { query: options.query }), ...(options.protocols && { protocols: options.protocols }) },
  );
  return Object.assign(client, { first: await client.next() });
}
type TlsClient = Awaited<ReturnType<typeof connectTls>>;

/** Collects one exec's messages on a socket up to and including its exit. */
async function untilExit(client: TlsClient, id: string): Promise<ServerMessage[]> {
  const messages: ServerMessage[] = [];
  for (;;) {
    const message = await client.next((m) => "id" in m && m.id === id);
    messages.push(message);
    if (message.type === "exit" || message.type === "error") return messages;
  }
}

describe.skipIf(missing !== undefined)("three bunker hosts behind nginx with deploy/nginx/cluster.conf", () => {
  const servers = new Map<HostId, TestServer>();
  let nginx: ClusterNginx;
  let token: string;
  let sessions: OpenedSession[] = [];

  beforeAll(async () => {
    const started = await Promise.all(HOST_IDS.map((id) => startServer({ args: ["--host-id", id] })));
    HOST_IDS.forEach((id, index) => servers.set(id, started[index]!));
    token = started[0]!.token!;
    nginx = await startClusterNginx(started.map((server) => server.port));
  }, 30_000);

  afterAll(async () => {
    await nginx?.[Symbol.asyncDispose]();
    await Promise.all([...servers.values()].map((server) => server[Symbol.asyncDispose]()));
  });

  const direct = () => `wss://127.0.0.1:${nginx.httpsPort}/ws`;
  const resume = (url: string, session: OpenedSession) =>
    connectTls(url, { ca: nginx.certificatePem, token, query: { session: session.name }, protocols: ["bunker.v1", `bunker.resume.${session.hello.resumeSecret}`] });
  // Named sessions: the token alone reaches their files, as it joins them.
  const fetchOwnerFile = (session: OpenedSession) =>
    fetch(`https://127.0.0.1:${nginx.httpsPort}/files/owner.txt?session=${session.name}`, {
      headers: { authorization: `Bearer ${token}` },
      tls: { ca: nginx.certificatePem },
    } as RequestInit);
  const fileRequest = (method: string, path: string, session: string, headers: Record<string, string>, body?: string) =>
    fetch(`https://127.0.0.1:${nginx.httpsPort}/files/${path}?session=${session}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...headers },
      ...(body !== undefined && { body }),
      tls: { ca: nginx.certificatePem },
    } as RequestInit);

  test("spreads 30 named sessions over the three hosts, and every resume after a cut connection lands on the owner and replays byte-exact", async () => {
    await using proxy = await startTcpProxy(nginx.httpsPort);
    const viaProxy = `wss://127.0.0.1:${proxy.port}/ws`;
    // The client names each new session with 128 random bits, so that its first connection already
    // carries the key that its resumes will carry.
    const names = Array.from({ length: SESSION_COUNT }, () => randomBytes(16).toString("base64url"));
    const firsts = await Promise.all(names.map((name) => connectTls(viaProxy, { ca: nginx.certificatePem, token, query: { name } })));
    sessions = firsts.map((client, index) => {
      const name = names[index]!;
      expect(client.first).toMatchObject({ type: "hello", session: name, name, resumed: false });
      return { name, hello: client.first as HelloMessage, expected: expectedStream(name) };
    });
    const hostsUsed = new Set(sessions.map((session) => session.hello.host));
    expect([...hostsUsed].sort()).toEqual([...HOST_IDS]);
    for (const session of sessions) expect(session.hello.workspace.startsWith(servers.get(session.hello.host as HostId)!.workspaceRoot)).toBe(true);

    firsts.forEach((client, index) => {
      client.send({ type: "exec", id: STREAM_ID, argv: ["sh", "-c", STREAM_SCRIPT, "sh", names[index]], encoding: "base64" });
    });
    // Each session has started printing when every connection is cut at once, without a close frame.
    const firstChunks = await Promise.all(firsts.map((client) => client.next((m) => m.type === "output" && m.id === STREAM_ID)));
    proxy.dropAll();
    const closeCodes = await Promise.all(firsts.map(async (client) => (await client.closed).code));
    expect(new Set(closeCodes)).toEqual(new Set([1006]));
    const before = firsts.map((client, index) => joinOutputs([firstChunks[index]!, ...client.takeQueued((m) => m.type === "output")], 0));
    // The second half comes after a one-second pause: sessions missed output while cut off.
    expect(before.some((held, index) => held.bytes.byteLength < sessions[index]!.expected.byteLength)).toBe(true);

    const resumed = await Promise.all(sessions.map((session) => resume(viaProxy, session)));
    const outcomes = await Promise.all(
      resumed.map(async (client, index) => {
        const session = sessions[index]!;
        // A resume that reached another host is refused: report that instead of waiting for output.
        if (client.first.type !== "hello") return { hello: client.first };
        const held = before[index]!.bytes.byteLength;
        client.send({ type: "attach", id: STREAM_ID, offsets: { stdout: held, stderr: 0 }, encoding: "base64" });
        const rest = await untilExit(client, STREAM_ID);
        const after = joinOutputs(rest, held);
        const hello = client.first as HelloMessage;
        return {
          hello: { type: hello.type, session: hello.session, resumed: hello.resumed, host: hello.host, workspace: hello.workspace },
          contiguous: before[index]!.contiguous && after.contiguous,
          byteExact: Buffer.concat([before[index]!.bytes, after.bytes]).equals(session.expected),
          exit: rest.at(-1),
        };
      }),
    );
    expect(outcomes).toEqual(
      sessions.map((session) => ({
        hello: { type: "hello", session: session.name, resumed: true, host: session.hello.host, workspace: session.hello.workspace },
        contiguous: true,
        byteExact: true,
        exit: { type: "exit", id: STREAM_ID, code: 0, signal: null, reason: "exited", durationMs: expect.any(Number) },
      })),
    );

    // HTTP file transfer carries the same key, so it reaches the same workspace.
    const files = await Promise.all(sessions.map(async (session) => {
      const response = await fetchOwnerFile(session);
      return { status: response.status, body: await response.text() };
    }));
    expect(files).toEqual(sessions.map((session) => ({ status: 200, body: session.name })));

    await Promise.all(resumed.map((client) => client[Symbol.asyncDispose]()));
  }, 30_000);

  test("tells browsers to ask over HTTPS only (Strict-Transport-Security), once", async () => {
    const health = await fetch(`https://127.0.0.1:${nginx.httpsPort}/healthz`, { tls: { ca: nginx.certificatePem } } as RequestInit);
    expect({ status: health.status, hsts: health.headers.get("strict-transport-security") }).toEqual({ status: 200, hsts: "max-age=31536000" });
  });

  test("an anonymous session created with ?session=<id>&create=1 gets its files through nginx, routed by its id", async () => {
    const id = randomBytes(16).toString("base64url");
    await using client = await connectTls(direct(), { ca: nginx.certificatePem, token, query: { session: id, create: "1" } });
    expect(client.first).toMatchObject({ type: "hello", session: id, resumed: false });
    const { workspace, host } = client.first as HelloMessage;
    expect((await fileRequest("PUT", "note.txt", id, {}, host)).status).toBe(201);
    const got = await fileRequest("GET", "note.txt", id, {});
    expect({ status: got.status, body: await got.text() }).toEqual({ status: 200, body: host });
    expect(readFileSync(join(workspace, "note.txt"), "utf8")).toBe(host);
  });

  test("when a host stops, its sessions get unknown_session on resume, the others resume untouched, and new sessions go to the live hosts", async () => {
    expect(sessions).toHaveLength(SESSION_COUNT);
    const stopped: HostId = "b";
    const lost = sessions.filter((session) => session.hello.host === stopped);
    expect(lost.length).toBeGreaterThan(0);
    expect(await servers.get(stopped)!.stop()).toBe(0);

    const resumes = await Promise.all(sessions.map((session) => resume(direct(), session)));
    const outcomes = await Promise.all(
      resumes.map(async (client, index) => {
        const session = sessions[index]!;
        if (session.hello.host === stopped || client.first.type !== "hello") return { first: client.first, close: (await client.closed).code };
        // A kept session still has everything its stream printed: attach from 0 replays all of it.
        client.send({ type: "attach", id: STREAM_ID, encoding: "base64" });
        const replay = joinOutputs(await untilExit(client, STREAM_ID), 0);
        const hello = client.first as HelloMessage;
        await client[Symbol.asyncDispose]();
        return { first: { type: hello.type, resumed: hello.resumed, host: hello.host }, replayed: replay.contiguous && replay.bytes.equals(session.expected) };
      }),
    );
    expect(outcomes).toEqual(
      sessions.map((session) =>
        session.hello.host === stopped
          ? { first: { type: "error", code: "unknown_session", message: expect.stringContaining(JSON.stringify(session.name)) }, close: 4404 }
          : { first: { type: "hello", resumed: true, host: session.hello.host }, replayed: true },
      ),
    );

    // A file request for a lost session gets the same answer in HTTP.
    const lostFile = await fetchOwnerFile(lost[0]!);
    expect({ status: lostFile.status, body: (await lostFile.text()).split(":")[0] }).toEqual({ status: 404, body: "unknown_session" });

    // New sessions, named (hashed) and plain (round robin), are all created on the live hosts.
    const fresh = await Promise.all([
      ...Array.from({ length: 12 }, () => connectTls(direct(), { ca: nginx.certificatePem, token, query: { name: randomBytes(16).toString("base64url") } })),
      ...Array.from({ length: 6 }, () => connectTls(direct(), { ca: nginx.certificatePem, token })),
    ]);
    const freshHosts = fresh.map((client) => (client.first as HelloMessage).host);
    expect(fresh.map((client) => client.first.type)).toEqual(fresh.map(() => "hello"));
    expect([...new Set(freshHosts)].sort()).toEqual(["a", "c"]);
    await Promise.all(fresh.map((client) => client[Symbol.asyncDispose]()));
  }, 30_000);
});

describe("docs/SCALING.md", () => {
  test("shows nginx lines that are, word for word, in deploy/nginx/cluster.conf", () => {
    const doc = readFileSync(join(REPO_ROOT, "docs", "SCALING.md"), "utf8");
    const conf = readFileSync(CLUSTER_CONF, "utf8");
    const blocks = [...doc.matchAll(/```nginx\n([\s\S]*?)```/g)].map((match) => match[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks.filter((block) => !conf.includes(block))).toEqual([]);
  });
});
