import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { useSharedServer } from "../helpers/shared-server.ts";

/** What a file request over HTTP presents besides its method and body. */
interface Presented {
  session: string;
  /** Sent in X-Bunker-Resume-Secret; undefined sends no such header. */
  secret?: string | undefined;
  /** undefined sends no Authorization header. */
  token?: string | undefined;
  /** Extra query parameters, to show that none of them carries a secret. */
  query?: Record<string, string>;
}

/** A response as a client sees it, all of it but Date, so that two answers can be compared whole. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function answerOf(response: Response): Promise<Answer> {
  const headers = Object.fromEntries([...response.headers].filter(([name]) => name !== "date"));
  return { status: response.status, headers, body: await response.text() };
}

/** What every refused file request gets, whatever the reason it was refused. */
const UNKNOWN_SESSION_BODY = "unknown_session: no session with that id here, or the resume secret is missing or wrong\n";
const unknownSessionAnswer = (method: string): Answer => ({
  status: 404,
  headers: {
    "content-type": "text/plain; charset=utf-8",
    "x-bunker-error": "unknown_session",
    "content-length": String(Buffer.byteLength(UNKNOWN_SESSION_BODY)),
  },
  // A HEAD answer has the headers of the GET answer and no body.
  body: method === "HEAD" ? "" : UNKNOWN_SESSION_BODY,
});

/** Every path in a workspace, partial files included, so that a refused PUT is seen to leave nothing. */
const workspaceListing = (workspace: string) => readdirSync(workspace, { recursive: true, encoding: "utf8" }).sort();

describe("the HTTP file route", () => {
  // Its client is in an anonymous session.
  const shared = useSharedServer();

  const fileRequest = (method: string, path: string, presented: Presented, body?: string): Promise<Response> => {
    const url = new URL(`http://127.0.0.1:${shared.server.port}/files/${path}`);
    url.searchParams.set("session", presented.session);
    for (const [key, value] of Object.entries(presented.query ?? {})) url.searchParams.set(key, value);
    const token = "token" in presented ? presented.token : shared.server.token;
    const headers: Record<string, string> = {};
    if (token !== undefined) headers["authorization"] = `Bearer ${token}`;
    if (presented.secret !== undefined) headers["x-bunker-resume-secret"] = presented.secret;
    return fetch(url, { method, headers, ...(body !== undefined && { body }) });
  };

  test("an anonymous session's files are read and written with its resume secret in X-Bunker-Resume-Secret", async () => {
    const owner = { session: shared.client.hello.session, secret: shared.client.hello.resumeSecret };
    const put = await fileRequest("PUT", "owned/note.txt", owner, "mine");
    expect(put.status).toBe(201);
    expect(readFileSync(join(shared.client.hello.workspace, "owned/note.txt"), "utf8")).toBe("mine");
    const get = await fileRequest("GET", "owned/note.txt", owner);
    expect({ status: get.status, body: await get.text() }).toEqual({ status: 200, body: "mine" });
    const head = await fileRequest("HEAD", "owned/note.txt", owner);
    expect({ status: head.status, length: head.headers.get("content-length") }).toEqual({ status: 200, length: "4" });
  });

  test("a wrong secret, a missing secret, a secret in the URL and an unknown id get byte-identical answers to GET, HEAD and PUT, and a refused PUT writes nothing", async () => {
    const { session, resumeSecret, workspace } = shared.client.hello;
    writeFileSync(join(workspace, "kept.txt"), "original");
    const before = workspaceListing(workspace);
    // Shaped like a live id and a live secret: only whether they are right differs.
    const unknownId = randomBytes(16).toString("base64url");
    const wrongSecret = resumeSecret.replace(/.$/, (last) => (last === "A" ? "B" : "A"));
    const refusedWays: Record<string, Presented> = {
      "wrong secret": { session, secret: wrongSecret },
      "empty secret": { session, secret: "" },
      "missing secret": { session },
      "secret in the query": { session, query: { secret: resumeSecret, resumeSecret, "x-bunker-resume-secret": resumeSecret } },
      "unknown id with a secret": { session: unknownId, secret: resumeSecret },
      "unknown id without a secret": { session: unknownId },
    };
    // For a live id, a path that exists and one that does not: neither may show through.
    const requests: [string, string][] = [
      ["GET", "kept.txt"],
      ["GET", "nothing-here.txt"],
      ["HEAD", "kept.txt"],
      ["PUT", "kept.txt"],
      ["PUT", "intruder/new.txt"],
    ];
    const answers: Record<string, Answer> = {};
    const expected: Record<string, Answer> = {};
    for (const [method, path] of requests) {
      for (const [way, presented] of Object.entries(refusedWays)) {
        const label = `${method} ${path}, ${way}`;
        answers[label] = await answerOf(await fileRequest(method, path, presented, method === "PUT" ? "overwritten" : undefined));
        expected[label] = unknownSessionAnswer(method);
      }
    }
    expect(answers).toEqual(expected);
    expect(workspaceListing(workspace)).toEqual(before);
    expect(readFileSync(join(workspace, "kept.txt"), "utf8")).toBe("original");
  });

  test("concurrent PUTs to one path each finish: one of the bodies is the file, none is told its partial was replaced", async () => {
    const owner = { session: shared.client.hello.session, secret: shared.client.hello.resumeSecret };
    const bodies = ["a".repeat(300_000), "b".repeat(300_000), "c".repeat(300_000)];
    const statuses = await Promise.all(bodies.map(async (body) => (await fileRequest("PUT", "same/target.bin", owner, body)).status));
    expect(statuses.every((status) => status === 200 || status === 201)).toBe(true);
    expect(bodies).toContain(readFileSync(join(shared.client.hello.workspace, "same/target.bin"), "utf8"));
    expect(readdirSync(join(shared.client.hello.workspace, "same"))).toEqual(["target.bin"]);
  });

  test("a path with NUL (%00) is bad_message, 400, like any other bad path", async () => {
    const owner = { session: shared.client.hello.session, secret: shared.client.hello.resumeSecret };
    const response = await fileRequest("GET", "a%00b", owner);
    expect({ status: response.status, code: response.headers.get("x-bunker-error") }).toEqual({ status: 400, code: "bad_message" });
  });

  test("the token is still checked first: the right secret without the token gets 401", async () => {
    const response = await fileRequest("GET", "kept.txt", { session: shared.client.hello.session, secret: shared.client.hello.resumeSecret, token: undefined });
    expect({ status: response.status, authenticate: response.headers.get("www-authenticate") }).toEqual({ status: 401, authenticate: "Bearer" });
  });

  test("a named session's files need the token alone, as joining it on the WebSocket does", async () => {
    await using named = await connect(shared.server, { query: { name: `shared-${crypto.randomUUID()}` } });
    const byName = { session: named.hello.session };
    expect((await fileRequest("PUT", "shared.txt", byName, "for everyone")).status).toBe(201);
    const get = await fileRequest("GET", "shared.txt", byName);
    expect({ status: get.status, body: await get.text() }).toEqual({ status: 200, body: "for everyone" });
    expect(readFileSync(join(named.hello.workspace, "shared.txt"), "utf8")).toBe("for everyone");
  });

  test("a session created with an id the client chose (?session=<id>&create=1) is anonymous: its files need its secret", async () => {
    const id = `chosen-${crypto.randomUUID()}`;
    await using chosen = await connect(shared.server, { query: { session: id, create: "1" } });
    expect(await answerOf(await fileRequest("GET", "x", { session: id }))).toEqual(unknownSessionAnswer("GET"));
    const put = await fileRequest("PUT", "x", { session: id, secret: chosen.hello.resumeSecret }, "ok");
    expect(put.status).toBe(201);
  });
});
