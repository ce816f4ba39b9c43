import { basename } from "node:path";
import type { HTMLBundle } from "bun";

/** One file of the page: its body, and the headers it goes out with (content type, tag, caching). */
export interface PageFile {
  body: () => Blob | string;
  headers: Record<string, string>;
}

/** The page's files by the path they are served at: `/` for the HTML, `/<name>` for each bundled file. */
export type PageFiles = ReadonlyMap<string, PageFile>;

/** A bundled file of a compiled binary's page, as Bun lists it (HTMLBundle.files). */
interface BundledFile {
  path: string;
  loader: string;
  headers: Record<string, string>;
}

/** The page as a compiled binary holds it; from source, Bun lists no files. */
interface CompiledPage {
  index: string;
  files?: BundledFile[];
}

/** Hashed names: a version never changes, so the browser may keep it. */
const IMMUTABLE = "public, max-age=31536000, immutable";

/** An entity tag as HTTP writes it: quoted (Bun lists its files' tags bare). */
function quotedTag(tag: string | undefined): string | undefined {
  if (tag === undefined) return undefined;
  return /^(W\/)?".*"$/.test(tag) ? tag : `"${tag}"`;
}

/** The HTML, asked for again at every load (`no-cache`), with a tag of its text. */
function htmlFile(text: string): PageFile {
  const headers = { "content-type": "text/html;charset=utf-8", etag: `"${Bun.hash(text).toString(36)}"`, "cache-control": "no-cache" };
  return { body: () => text, headers };
}

/**
 * A compiled binary's page: bundled at build time with absolute links (Bun.build's publicPath does
 * not reach it), so its HTML is read from the binary and its links made relative; its other files
 * are served from the binary as they are.
 */
async function compiledPageFiles(index: string, bundled: BundledFile[]): Promise<PageFiles> {
  const files = new Map<string, PageFile>();
  const names: string[] = [];
  for (const file of bundled) {
    if (file.loader === "html") continue;
    const name = basename(file.path);
    names.push(name);
    const etag = quotedTag(file.headers["etag"]);
    files.set(`/${name}`, { body: () => Bun.file(file.path), headers: { ...file.headers, ...(etag && { etag }), "cache-control": IMMUTABLE } });
  }
  let text = await Bun.file(index).text();
  for (const name of names) text = text.replaceAll(`="/${name}"`, `="./${name}"`);
  files.set("/", htmlFile(text));
  return files;
}

/**
 * The page run from source: bundled here, in memory, as `bun build` bundles it into the binary and
 * as Bun's own HTML route did (same options, same hashed names), with relative links.
 */
async function sourcePageFiles(index: string): Promise<PageFiles> {
  const built = await Bun.build({ entrypoints: [index], target: "browser", minify: true, publicPath: "./", throw: false });
  if (!built.success) throw new Error(`bundling ${index} failed: ${built.logs.map(String).join("\n")}`);
  const files = new Map<string, PageFile>();
  for (const output of built.outputs) {
    const name = basename(output.path);
    if (name.endsWith(".html")) files.set("/", htmlFile(await output.text()));
    else files.set(`/${name}`, { body: () => output, headers: { "content-type": output.type, ...(output.hash && { etag: `"${output.hash}"` }), "cache-control": IMMUTABLE } });
  }
  if (!files.has("/")) throw new Error(`bundling ${index} gave no HTML`);
  return files;
}

/**
 * The terminal page's files, from the binary when compiled and bundled from source otherwise. Its
 * links to them are relative (`./chunk-….js`), so that the page works as well under a path a
 * reverse proxy adds (`location /bunker/ { proxy_pass http://127.0.0.1:7681/; }`, docs/INSTALL.md),
 * where `/chunk-….js` would leave it.
 */
export function loadPageFiles(page: HTMLBundle): Promise<PageFiles> {
  const { index, files } = page as unknown as CompiledPage;
  return files ? compiledPageFiles(index, files) : sourcePageFiles(index);
}
