import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { useSharedServer } from "../helpers/shared-server.ts";

/** What a file request over HTTP presents besides its method and body. */
interface Presented {
  session: string;
  /** undefined sends no Authorization header. */
  token?: string | undefined;
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

/** What a request for a session this server does not hold gets. */
const UNKNOWN_SESSION_BODY = "unknown_session: no session with that id lives on this server\n";
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

  const fileRequest = (method: string, path: string, presented: Presented, body?: string, extraHeaders: Record<string, string> = {}): Promise<Response> => {
    const url = new URL(`http://127.0.0.1:${shared.server.port}/files/${path}`);
    url.searchParams.set("session", presented.session);
    const token = "token" in presented ? presented.token : shared.server.token;
    const headers: Record<string, string> = { ...extraHeaders };
    if (token !== undefined) headers["authorization"] = `Bearer ${token}`;
    return fetch(url, { method, headers, ...(body !== undefined && { body }) });
  };

  test("a session's files are read and written with the token alone, as curl users do", async () => {
    const owner = { session: shared.client.hello.session };
    const put = await fileRequest("PUT", "owned/note.txt", owner, "mine");
    expect(put.status).toBe(201);
    expect(readFileSync(join(shared.client.hello.workspace, "owned/note.txt"), "utf8")).toBe("mine");
    const get = await fileRequest("GET", "owned/note.txt", owner);
    expect({ status: get.status, body: await get.text() }).toEqual({ status: 200, body: "mine" });
    const head = await fileRequest("HEAD", "owned/note.txt", owner);
    expect({ status: head.status, length: head.headers.get("content-length") }).toEqual({ status: 200, length: "4" });
  });

  test("GET and HEAD carry a strong ETag and Last-Modified from the file's metadata, and If-None-Match with that tag gets 304 and no body", async () => {
    const owner = { session: shared.client.hello.session };
    const path = join(shared.client.hello.workspace, "tagged.txt");
    writeFileSync(path, "version one");
    const stats = statSync(path, { bigint: true });
    const validators = {
      etag: `"${[stats.size, stats.mtimeNs, stats.ino].map((value) => value.toString(16)).join("-")}"`,
      "last-modified": new Date(Number(stats.mtimeNs / 1_000_000n)).toUTCString(),
    };
    for (const method of ["GET", "HEAD"]) {
      const answer = await answerOf(await fileRequest(method, "tagged.txt", owner));
      expect({ method, answer }).toEqual({
        method,
        answer: {
          status: 200,
          headers: {
            "content-type": "application/octet-stream",
            "accept-ranges": "bytes",
            "content-length": "11",
            ...validators,
            // Never rendered as a page of the server's origin (file-http.ts).
            "x-content-type-options": "nosniff",
            "content-disposition": "attachment",
            "content-security-policy": "sandbox; default-src 'none'",
          },
          body: method === "GET" ? "version one" : "",
        },
      });
      for (const ifNoneMatch of [validators.etag, `"other", W/${validators.etag}`, "*"]) {
        const notModified = await answerOf(await fileRequest(method, "tagged.txt", owner, undefined, { "if-none-match": ifNoneMatch }));
        expect({ method, ifNoneMatch, notModified }).toEqual({ method, ifNoneMatch, notModified: { status: 304, headers: validators, body: "" } });
      }
    }
    const otherTag = await fileRequest("GET", "tagged.txt", owner, undefined, { "if-none-match": '"other"' });
    expect({ status: otherTag.status, body: await otherTag.text() }).toEqual({ status: 200, body: "version one" });
  });

  test("a resumed GET is served in part only while If-Range is the file's current ETag: a file replaced in between comes whole, never spliced", async () => {
    const owner = { session: shared.client.hello.session };
    expect((await fileRequest("PUT", "resumed.txt", owner, "old-old-old-old")).status).toBe(201);
    const first = await fileRequest("GET", "resumed.txt", owner);
    const oldTag = first.headers.get("etag")!;
    expect(await first.text()).toBe("old-old-old-old");
    const resume = (ifRange: string) => fileRequest("GET", "resumed.txt", owner, undefined, { range: "bytes=8-", "if-range": ifRange });
    const unchanged = await resume(oldTag);
    expect({ status: unchanged.status, range: unchanged.headers.get("content-range"), body: await unchanged.text() }).toEqual({
      status: 206,
      range: "bytes 8-14/15",
      body: "old-old",
    });
    // The same size: only the tag tells the two versions apart.
    expect((await fileRequest("PUT", "resumed.txt", owner, "NEW-NEW-NEW-NEW")).status).toBe(200);
    const changed = await resume(oldTag);
    expect({ status: changed.status, range: changed.headers.get("content-range"), body: await changed.text() }).toEqual({
      status: 200,
      range: null,
      body: "NEW-NEW-NEW-NEW",
    });
    expect(changed.headers.get("etag")).not.toBe(oldTag);
    // A weak tag or a date is not a strong validator (RFC 9110 13.1.5): the whole file again.
    for (const weak of [`W/${changed.headers.get("etag")}`, changed.headers.get("last-modified")!]) {
      const answer = await resume(weak);
      expect({ weak, status: answer.status, body: await answer.text() }).toEqual({ weak, status: 200, body: "NEW-NEW-NEW-NEW" });
    }
  });

  test("a trailing slash on a file's path is 409 not_directory to GET, HEAD and PUT, and the file stays as it was", async () => {
    const owner = { session: shared.client.hello.session };
    writeFileSync(join(shared.client.hello.workspace, "plain.txt"), "plain");
    for (const method of ["GET", "HEAD", "PUT"]) {
      const response = await fileRequest(method, "plain.txt/", owner, method === "PUT" ? "replaced" : undefined);
      expect({ method, status: response.status, code: response.headers.get("x-bunker-error") }).toEqual({ method, status: 409, code: "not_directory" });
    }
    const directory = await fileRequest("PUT", "plain-dir/", owner, "body");
    expect({ status: directory.status, code: directory.headers.get("x-bunker-error") }).toEqual({ status: 409, code: "is_directory" });
    expect(readFileSync(join(shared.client.hello.workspace, "plain.txt"), "utf8")).toBe("plain");
    expect(readdirSync(shared.client.hello.workspace)).not.toContain("plain-dir");
  });

  test("an id this server does not hold gets 404 unknown_session to GET, HEAD and PUT, and a refused PUT writes nothing anywhere", async () => {
    const { workspace } = shared.client.hello;
    writeFileSync(join(workspace, "kept.txt"), "original");
    const before = workspaceListing(workspace);
    const unknownId = randomBytes(16).toString("base64url");
    for (const [method, path] of [["GET", "kept.txt"], ["HEAD", "kept.txt"], ["PUT", "kept.txt"], ["PUT", "intruder/new.txt"]] as const) {
      const answer = await answerOf(await fileRequest(method, path, { session: unknownId }, method === "PUT" ? "overwritten" : undefined));
      expect(answer).toEqual(unknownSessionAnswer(method));
    }
    expect(workspaceListing(workspace)).toEqual(before);
  });

  test("concurrent PUTs to one path each finish: one of the bodies is the file, none is told its partial was replaced", async () => {
    const owner = { session: shared.client.hello.session };
    const bodies = ["a".repeat(300_000), "b".repeat(300_000), "c".repeat(300_000)];
    const statuses = await Promise.all(bodies.map(async (body) => (await fileRequest("PUT", "same/target.bin", owner, body)).status));
    expect(statuses.every((status) => status === 200 || status === 201)).toBe(true);
    expect(bodies).toContain(readFileSync(join(shared.client.hello.workspace, "same/target.bin"), "utf8"));
    expect(readdirSync(join(shared.client.hello.workspace, "same"))).toEqual(["target.bin"]);
  });

  test("a path with NUL (%00) is bad_message, 400, like any other bad path", async () => {
    const response = await fileRequest("GET", "a%00b", { session: shared.client.hello.session });
    expect({ status: response.status, code: response.headers.get("x-bunker-error") }).toEqual({ status: 400, code: "bad_message" });
  });

  test("the token is checked first: without it, 401 and nothing of the session shows", async () => {
    for (const session of [shared.client.hello.session, randomBytes(16).toString("base64url")]) {
      const response = await fileRequest("GET", "kept.txt", { session, token: undefined });
      expect({ status: response.status, authenticate: response.headers.get("www-authenticate") }).toEqual({ status: 401, authenticate: "Bearer" });
    }
  });

  test("named sessions and sessions with an id the client chose (create=1) are reached by their id the same way", async () => {
    await using named = await connect(shared.server, { query: { name: `shared-${crypto.randomUUID()}` } });
    expect((await fileRequest("PUT", "shared.txt", { session: named.hello.session }, "for everyone")).status).toBe(201);
    expect(readFileSync(join(named.hello.workspace, "shared.txt"), "utf8")).toBe("for everyone");
    const id = `chosen-${crypto.randomUUID()}`;
    await using chosen = await connect(shared.server, { query: { session: id, create: "1" } });
    expect((await fileRequest("PUT", "x", { session: id }, "ok")).status).toBe(201);
    expect(readFileSync(join(chosen.hello.workspace, "x"), "utf8")).toBe("ok");
  });
});
