import { basename } from "node:path";
import type { HTMLBundle } from "bun";

/** A bundled file of a compiled binary's page, as Bun lists it (HTMLBundle.files). */
interface BundledFile {
  path: string;
  loader: string;
  headers: Record<string, string>;
}

/** The page as a compiled binary holds it; from source, Bun bundles on the first request and lists no files. */
interface CompiledPage {
  index: string;
  files?: BundledFile[];
}

/** The value of a Bun.serve route: the page as Bun serves it, or a handler. */
export type PageRoute = HTMLBundle | ((request: Request) => Response | Promise<Response>);

/** An entity tag as HTTP writes it: quoted (Bun lists its files' tags bare). */
function quotedTag(tag: string | undefined): string | undefined {
  if (tag === undefined) return undefined;
  return /^(W\/)?".*"$/.test(tag) ? tag : `"${tag}"`;
}

/** Whether an If-None-Match header names `etag`: `*`, or a list of tags compared weakly (RFC 9110). */
function matchesTag(header: string | null, etag: string | undefined): boolean {
  if (header === null || etag === undefined) return false;
  if (header.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => opaque(tag) === opaque(etag));
}

/** Answers GET and HEAD with the file, or 304 when the client already has this version of it; other methods 405. */
function respond(request: Request, body: () => Blob | string, headers: Record<string, string>): Response {
  if (request.method !== "GET" && request.method !== "HEAD") return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  if (matchesTag(request.headers.get("if-none-match"), headers["etag"])) return new Response(null, { status: 304, headers });
  if (request.method === "GET") return new Response(body(), { headers });
  // A null body would go out as `Content-Length: 0`; HEAD must give the length GET's body has.
  const content = body();
  const length = typeof content === "string" ? Buffer.byteLength(content) : content.size;
  return new Response(null, { headers: { ...headers, "content-length": String(length) } });
}

/**
 * The terminal page's routes: `/` and its hashed files. Its links to them are relative
 * (`./chunk-….js`), so that the page works as well under a path a reverse proxy adds (`location
 * /bunker/ { proxy_pass http://127.0.0.1:7681/; }`, docs/INSTALL.md), where `/chunk-….js` would
 * leave it. From source, bunfig.toml's `[serve.static] publicPath` has Bun's bundler write them so.
 * A compiled binary's page was bundled at build time with absolute links (Bun.build's publicPath
 * does not reach it): its HTML is read from the binary and rewritten once, on the first request,
 * and its files are served from the binary as they are.
 */
export function pageRoutes(page: HTMLBundle): Record<string, PageRoute> {
  const compiled = page as unknown as CompiledPage;
  if (!compiled.files) return { "/": page };
  const routes: Record<string, PageRoute> = {};
  const names = compiled.files.filter((file) => file.loader !== "html").map((file) => basename(file.path));
  for (const file of compiled.files) {
    if (file.loader === "html") continue;
    // Hashed names: a version never changes, so the browser may keep it.
    const etag = quotedTag(file.headers["etag"]);
    const headers = { ...file.headers, ...(etag && { etag }), "cache-control": "public, max-age=31536000, immutable" };
    routes[`/${basename(file.path)}`] = (request) => respond(request, () => Bun.file(file.path), headers);
  }
  let html: { text: string; headers: Record<string, string> } | undefined;
  routes["/"] = async (request) => {
    if (!html) {
      let text = await Bun.file(compiled.index).text();
      for (const name of names) text = text.replaceAll(`="/${name}"`, `="./${name}"`);
      const etag = `"${Bun.hash(text).toString(36)}"`;
      html = { text, headers: { "content-type": "text/html;charset=utf-8", etag, "cache-control": "no-cache" } };
    }
    const { text, headers } = html;
    return respond(request, () => text, headers);
  };
  return routes;
}
