import type { HTMLBundle } from "bun";
import { PAGE_SECURITY_HEADERS } from "./page-headers.ts";
import { loadPageFiles, type PageFile, type PageFiles } from "./page-files.ts";

/** Answers a request for one of the page's paths: the file, or 404 when the page has none there. */
export type PageResponder = (request: Request, pathname: string) => Promise<Response>;

/** Whether an If-None-Match header names `etag`: `*`, or a list of tags compared weakly (RFC 9110). */
function matchesTag(header: string | null, etag: string | undefined): boolean {
  if (header === null || etag === undefined) return false;
  if (header.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => opaque(tag) === opaque(etag));
}

/** Answers GET and HEAD with the file, or 304 when the client already has this version of it; other methods 405. */
function respond(request: Request, file: PageFile): Response {
  const headers = { ...file.headers, ...PAGE_SECURITY_HEADERS };
  if (request.method !== "GET" && request.method !== "HEAD") return new Response("method not allowed\n", { status: 405, headers: { ...PAGE_SECURITY_HEADERS, allow: "GET, HEAD" } });
  if (matchesTag(request.headers.get("if-none-match"), headers["etag"])) return new Response(null, { status: 304, headers });
  if (request.method === "GET") return new Response(file.body(), { headers });
  // A null body would go out as `Content-Length: 0`; HEAD must give the length GET's body has.
  const content = file.body();
  const length = typeof content === "string" ? Buffer.byteLength(content) : content.size;
  return new Response(null, { headers: { ...headers, "content-length": String(length) } });
}

/**
 * The terminal page's routes: `/` and its hashed files, each with the page's security headers
 * (page-headers.ts; Bun's own HTML route sets none, and takes none). The files are loaded on the
 * first request for a path the server does not answer itself: from source that bundles the page,
 * once, as Bun's own route did on its first request. A page that fails to load (a bundling error,
 * from source) is reported once to `onLoadFailed` and answered with 500 from then on.
 */
export function createPageResponder(page: HTMLBundle, onLoadFailed: (error: Error) => void): PageResponder {
  let files: Promise<PageFiles> | undefined;
  return async (request, pathname) => {
    files ??= loadPageFiles(page).catch((error: Error) => {
      onLoadFailed(error);
      throw error;
    });
    let loaded: PageFiles;
    try {
      loaded = await files;
    } catch {
      return new Response("the page could not be loaded; the server's log says why\n", { status: 500 });
    }
    const file = loaded.get(pathname);
    return file ? respond(request, file) : new Response("not found\n", { status: 404 });
  };
}
