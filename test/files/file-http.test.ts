import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { handleFileHttp, type HttpFileTarget } from "../../src/server/file-http.ts";

const workspace = realpathSync(mkdtempSync(join(tmpdir(), "bunker-http-")));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));
writeFileSync(join(workspace, "f"), "0123456789");
symlinkSync("/etc", join(workspace, "out"));
mkdirSync(join(workspace, "dir"));

const target: HttpFileTarget = { workspace, owner: undefined, quotaBytes: undefined };
const call = (method: string, path: string, init: RequestInit = {}, to: HttpFileTarget = target) =>
  handleFileHttp(new Request(`http://bunker.test/files/${path}?session=s`, { method, ...init }), path, to);

test("GET serves the whole file with its length, and HEAD the same headers without a body", async () => {
  const response = await call("GET", "f");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-length")).toBe("10");
  expect(response.headers.get("accept-ranges")).toBe("bytes");
  expect(await response.text()).toBe("0123456789");
  const head = await call("HEAD", "f");
  expect(head.status).toBe(200);
  expect(await head.text()).toBe("");
});

test("GET with a Range serves that part with 206, and a range past the end is 416", async () => {
  const part = await call("GET", "f", { headers: { range: "bytes=3-5" } });
  expect(part.status).toBe(206);
  expect(part.headers.get("content-range")).toBe("bytes 3-5/10");
  expect(await part.text()).toBe("345");
  const resume = await call("GET", "f", { headers: { range: "bytes=7-" } });
  expect([resume.status, await resume.text()]).toEqual([206, "789"]);
  const past = await call("GET", "f", { headers: { range: "bytes=10-" } });
  expect(past.status).toBe(416);
  expect(past.headers.get("content-range")).toBe("bytes */10");
});

test("errors carry their code in the status, the body and X-Bunker-Error, as text that is never sniffed (it names the path)", async () => {
  const cases: [string, string, number, string][] = [
    ["GET", "missing", 404, "not_found"],
    ["GET", "out/passwd", 403, "path_outside_workspace"],
    ["GET", "../x", 403, "path_outside_workspace"],
    ["GET", "/etc/passwd", 403, "path_outside_workspace"],
    ["GET", "dir", 409, "is_directory"],
    ["PUT", "dir", 409, "is_directory"],
    ["PUT", "f/x", 409, "not_directory"],
    ["PUT", "out/new", 403, "path_outside_workspace"],
  ];
  for (const [method, path, status, code] of cases) {
    const response = await call(method, path, method === "PUT" ? { body: "x" } : {});
    const body = await response.text();
    expect({ method, path, status: response.status, code: response.headers.get("x-bunker-error"), body: body.split(":")[0] }).toEqual({ method, path, status, code, body: code });
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  }
  expect((await call("DELETE", "f")).status).toBe(405);
});

test("PUT writes atomically: 201 for a new file, 200 for a replaced one, 412 with If-None-Match when it exists", async () => {
  const created = await call("PUT", "new/dir/p", { body: "payload" }, { ...target, owner: { uid: 65534, gid: 65534 } });
  expect(created.status).toBe(201);
  expect(await created.json()).toMatchObject({ path: "new/dir/p", type: "file", size: 7, uid: 65534 });
  expect(statSync(join(workspace, "new/dir")).uid).toBe(65534);
  const replaced = await call("PUT", "new/dir/p", { body: "second" });
  expect(replaced.status).toBe(200);
  expect(readFileSync(join(workspace, "new/dir/p"), "utf8")).toBe("second");
  const refused = await call("PUT", "new/dir/p", { body: "third", headers: { "if-none-match": "*" } });
  expect([refused.status, refused.headers.get("x-bunker-error")]).toEqual([412, "exists"]);
  expect(readdirSync(join(workspace, "new/dir"))).toEqual(["p"]);
});

test("PUT streams a body of unknown length, and holds the transfer cap and the quota", async () => {
  const parts = ["a".repeat(1000), "b".repeat(1000), "c".repeat(1000)];
  const body = new ReadableStream({
    pull(controller) {
      const next = parts.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(new TextEncoder().encode(next));
    },
  });
  const streamed = await call("PUT", "streamed", { body, duplex: "half" } as RequestInit);
  expect(streamed.status).toBe(201);
  expect(statSync(join(workspace, "streamed")).size).toBe(3000);
  const capped = await call("PUT", "capped", { body: "x".repeat(100) }, { ...target, limits: { maxTransferBytes: 50 } });
  expect([capped.status, capped.headers.get("x-bunker-error")]).toEqual([413, "too_large"]);
  const quota = await call("PUT", "quota", { body: "x".repeat(100) }, { ...target, quotaBytes: 3050 });
  expect([quota.status, quota.headers.get("x-bunker-error")]).toEqual([507, "quota_exceeded"]);
  expect(readdirSync(workspace).filter((name) => name.startsWith(".bunker-"))).toEqual([]);
});

test("a PUT whose body breaks off leaves neither the file nor a partial file", async () => {
  let sent = false;
  const body = new ReadableStream({
    pull(controller) {
      if (sent) return controller.error(new Error("connection reset"));
      sent = true;
      controller.enqueue(new TextEncoder().encode("partial bytes"));
    },
  });
  const response = await call("PUT", "broken", { body, duplex: "half" } as RequestInit);
  expect([response.status, response.headers.get("x-bunker-error")]).toEqual([400, "bad_message"]);
  expect(readdirSync(workspace).filter((name) => name === "broken" || name.startsWith(".bunker-"))).toEqual([]);
});

test("a path longer than a file message's 4096 characters is bad_message, without the path sent back", async () => {
  const path = "a/".repeat(3000);
  const response = await call("GET", path);
  expect([response.status, response.headers.get("x-bunker-error")]).toEqual([400, "bad_message"]);
  expect(await response.text()).toBe("bad_message: the path must be at most 4096 characters (got 6000)\n");
});

// Found by a review: If-Match and the date conditions were ignored, so a web editor saving with
// If-Match of the version it loaded overwrote what a command had written since (200).
describe("conditional requests (RFC 9110 13.2.2)", () => {
  const put = (path: string, body: string | ReadableStream, headers: Record<string, string>) => call("PUT", path, { body, headers, duplex: "half" } as RequestInit);
  const tagOf = async (path: string) => (await call("HEAD", path)).headers.get("etag")!;
  const outcome = async (response: Response) => [response.status, response.headers.get("x-bunker-error")];

  test("PUT with If-Match writes only over the version it names", async () => {
    writeFileSync(join(workspace, "edited"), "loaded");
    const loaded = await tagOf("edited");
    expect(await outcome(await put("edited", "saved", { "if-match": loaded }))).toEqual([200, null]);
    expect(await outcome(await put("edited", "stale save", { "if-match": loaded }))).toEqual([412, "precondition_failed"]);
    expect(readFileSync(join(workspace, "edited"), "utf8")).toBe("saved");
    expect(await outcome(await put("edited", "any", { "if-match": "*" }))).toEqual([200, null]);
    expect(await outcome(await put("absent", "x", { "if-match": "*" }))).toEqual([412, "precondition_failed"]);
    expect(existsSync(join(workspace, "absent"))).toBe(false);
    // With If-None-Match: * beside it, If-Match still holds the PUT to the version it names.
    expect(await outcome(await put("edited", "both", { "if-match": loaded, "if-none-match": "*" }))).toEqual([412, "precondition_failed"]);
    // A weak tag never matches strongly.
    expect(await outcome(await put("edited", "weak", { "if-match": `W/${await tagOf("edited")}` }))).toEqual([412, "precondition_failed"]);
  });

  test("PUT with If-None-Match of a tag, or If-Unmodified-Since before the last change, is refused", async () => {
    writeFileSync(join(workspace, "known"), "v1");
    expect(await outcome(await put("known", "v2", { "if-none-match": await tagOf("known") }))).toEqual([412, "precondition_failed"]);
    expect(await outcome(await put("known", "v2", { "if-none-match": '"other"' }))).toEqual([200, null]);
    expect(await outcome(await put("known", "v3", { "if-unmodified-since": new Date(Date.now() - 3_600_000).toUTCString() }))).toEqual([412, "precondition_failed"]);
    expect(await outcome(await put("known", "v3", { "if-unmodified-since": new Date(Date.now() + 3_600_000).toUTCString() }))).toEqual([200, null]);
    expect(readFileSync(join(workspace, "known"), "utf8")).toBe("v3");
  });

  test("PUT with If-Match is checked again once the body is in: a change made meanwhile wins", async () => {
    writeFileSync(join(workspace, "raced"), "before");
    const loaded = await tagOf("raced");
    const { promise: bodySent, resolve: sendRest } = Promise.withResolvers<void>();
    const { promise: reading, resolve: readingStarted } = Promise.withResolvers<void>();
    let part = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (part++ === 0) return controller.enqueue(new TextEncoder().encode("mine "));
        readingStarted();
        await bodySent;
        controller.close();
      },
    });
    const response = put("raced", body, { "if-match": loaded });
    // The first check has passed: the server reads the body.
    await reading;
    writeFileSync(join(workspace, "raced"), "a command's");
    sendRest();
    expect(await outcome(await response)).toEqual([412, "precondition_failed"]);
    expect(readFileSync(join(workspace, "raced"), "utf8")).toBe("a command's");
    expect(readdirSync(workspace).filter((name) => name.startsWith(".bunker-part-"))).toEqual([]);
  });

  test("GET: If-Modified-Since at Last-Modified is 304, If-Match of another version and If-Unmodified-Since before it are 412", async () => {
    writeFileSync(join(workspace, "page"), "content");
    const head = await call("HEAD", "page");
    const lastModified = head.headers.get("last-modified")!;
    expect((await call("GET", "page", { headers: { "if-modified-since": lastModified } })).status).toBe(304);
    expect((await call("GET", "page", { headers: { "if-modified-since": new Date(Date.parse(lastModified) - 2000).toUTCString() } })).status).toBe(200);
    // If-None-Match decides alone when it is there.
    expect((await call("GET", "page", { headers: { "if-none-match": '"other"', "if-modified-since": lastModified } })).status).toBe(200);
    expect(await outcome(await call("GET", "page", { headers: { "if-match": '"other"' } }))).toEqual([412, "precondition_failed"]);
    expect(await outcome(await call("GET", "page", { headers: { "if-unmodified-since": new Date(Date.parse(lastModified) - 2000).toUTCString() } }))).toEqual([412, "precondition_failed"]);
    expect((await call("GET", "page", { headers: { "if-match": head.headers.get("etag")! } })).status).toBe(200);
  });
});
