import { openDownload, type DownloadReader } from "../files/download-reader.ts";
import type { ClientPath } from "../files/workspace-path.ts";
import { FileError, toFileError } from "../files/file-error.ts";
import { clientPath, createFileScope, type FileScope } from "../files/file-scope.ts";
import { parseRangeHeader } from "../files/http-range.ts";
import { fileErrorResponse } from "../files/http-status.ts";
import { evaluatePreconditions, fileValidatorsOf, isRangeStillValid, type FileValidators } from "../files/http-validators.ts";
import type { FileLimits } from "../files/limits.ts";
import { openUpload } from "../files/upload-writer.ts";
import { MAX_FILE_PATH_CHARS } from "../protocol/index.ts";

/** What every download of a workspace file goes out with, beside its type (see handleFileHttp's GET). */
const WORKSPACE_FILE_HEADERS = {
  "x-content-type-options": "nosniff",
  "content-disposition": "attachment",
  "content-security-policy": "sandbox; default-src 'none'",
} as const;

/** The session a file request over HTTP acts on, already authenticated and looked up. */
export interface HttpFileTarget {
  readonly workspace: string;
  readonly owner: { uid: number; gid: number } | undefined;
  readonly quotaBytes: number | undefined;
  /** Sizes and counts; undefined fields take DEFAULT_FILE_LIMITS. */
  readonly limits?: Partial<FileLimits> | undefined;
  /** Paths commands may not change: no symlink steers a PUT into them (protected-target.ts). */
  readonly protectPaths?: readonly string[] | undefined;
  /**
   * Called when the answer no longer needs the session: once a body that streams the file has been
   * sent to its end or dropped, and at once for every other answer (see Session.holdForHttp).
   */
  readonly release?: () => void;
  /**
   * Whether the session has ended. A PUT checks before it puts its file in place: the path is a
   * name, and once a session has ended a new session of the same name may own it (a review).
   */
  readonly ended?: () => boolean;
}


/**
 * Serves `GET`/`HEAD` (download, with a single `Range`, `If-Range` and `If-None-Match`) and `PUT`
 * (upload, atomic) of `relativePath` in the target's workspace, with the same code and checks as
 * file.download and file.upload. `relativePath` is the URL path after `/files/`, percent-decoded.
 * Bodies stream both ways, a chunk at a time.
 */
export async function handleFileHttp(request: Request, relativePath: string, target: HttpFileTarget): Promise<Response> {
  const scope = createFileScope({ workspace: target.workspace, owner: target.owner, quotaBytes: target.quotaBytes, limits: target.limits, protectPaths: target.protectPaths });
  const release = target.release ?? (() => {});
  // Set by a download that answers with a body streamed from the file: the body releases then.
  let bodyReleases = false;
  const releaseAtBodyEnd = () => {
    bodyReleases = true;
    return release;
  };
  try {
    // The bound every file message's path has; past it the error named the whole path back (a
    // review: 6,000 characters in a 404).
    if (relativePath.length > MAX_FILE_PATH_CHARS) throw new FileError("bad_message", `the path must be at most ${MAX_FILE_PATH_CHARS} characters (got ${relativePath.length})`);
    switch (request.method) {
      case "GET":
      case "HEAD":
        return await serveDownload(scope, request, relativePath, releaseAtBodyEnd);
      case "PUT":
        return await receiveUpload(scope, request, relativePath, target.ended ?? (() => false));
      default:
        return new Response("bad_message: /files/ takes GET, HEAD and PUT\n", { status: 405, headers: { allow: "GET, HEAD, PUT", "x-bunker-error": "bad_message" } });
    }
  } catch (error) {
    return fileErrorResponse(toFileError(error, `${request.method} ${JSON.stringify(relativePath)}`));
  } finally {
    if (!bodyReleases) release();
  }
}

async function serveDownload(scope: FileScope, request: Request, relativePath: string, releaseAtBodyEnd: () => () => void): Promise<Response> {
  const path = clientPath(scope, relativePath);
  const reader = await openDownload(scope, path);
  let validators: FileValidators;
  try {
    validators = fileValidatorsOf(await reader.statExactly());
  } catch (error) {
    reader.close();
    throw error;
  }
  const { entityTag, lastModified } = validators;
  // RFC 9110 13.2.2: the preconditions come before the range, which a stale If-Range turns into the whole file.
  const precondition = evaluatePreconditions(request.headers, validators, request.method);
  if (precondition !== "proceed") {
    reader.close();
    if (precondition === "failed") throw preconditionFailed(path.label);
    return new Response(null, { status: 304, headers: { etag: entityTag, "last-modified": lastModified } });
  }
  const rangeHeader = isRangeStillValid(request.headers.get("if-range"), entityTag) ? request.headers.get("range") : null;
  const range = parseRangeHeader(rangeHeader, reader.size);
  const headers: Record<string, string> = {
    // A workspace file is whatever a command wrote: a browser must never render it as a page of the
    // server's origin, where the terminal page keeps the token. Bytes, not to be sniffed, saved
    // rather than shown, and in a sandbox of no origin with nothing allowed, should one show it anyway.
    ...WORKSPACE_FILE_HEADERS,
    "content-type": "application/octet-stream",
    "accept-ranges": "bytes",
    etag: entityTag,
    "last-modified": lastModified,
  };
  if (range.kind === "unsatisfiable") {
    reader.close();
    return new Response(`bad_message: the range is past the end of the file (${reader.size} bytes)\n`, {
      status: 416,
      headers: { ...headers, "content-type": "text/plain; charset=utf-8", "content-range": `bytes */${reader.size}`, "x-bunker-error": "bad_message" },
    });
  }
  if (range.kind === "part") {
    reader.setWindow(range.start, range.end - range.start);
    headers["content-range"] = `bytes ${range.start}-${range.end - 1}/${reader.size}`;
  }
  headers["content-length"] = String(reader.length);
  const status = range.kind === "part" ? 206 : 200;
  if (request.method === "HEAD" || reader.length === 0) {
    reader.close();
    return new Response(null, { status, headers });
  }
  const chunkBytes = scope.limits.chunkBytes;
  const release = releaseAtBodyEnd();
  const finish = () => {
    reader.close();
    release();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: Uint8Array | null;
        try {
          chunk = await reader.read(chunkBytes);
        } catch (error) {
          finish();
          throw error;
        }
        if (chunk === null) {
          finish();
          controller.close();
        } else {
          controller.enqueue(chunk);
        }
      },
      // A client that goes away before the end (Bun also aborts the request's signal then).
      cancel: finish,
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status, headers });
}

async function receiveUpload(scope: FileScope, request: Request, relativePath: string, ended: () => boolean): Promise<Response> {
  const path = clientPath(scope, relativePath);
  // RFC 9110 14.5: a PUT with Content-Range carries part of a file, and taking it as the whole would
  // cut the file down to that part. A PUT here never resumes, so it is refused (400), as the RFC asks.
  if (request.headers.has("content-range")) {
    throw new FileError("bad_message", `${path.label}: PUT takes the whole file, and Content-Range is not accepted; resume an upload with file.upload over the WebSocket`);
  }
  // Checked before the body is read, and again before the file is put in place (a command may
  // write it meanwhile). If-None-Match: * is the atomic refusal of an existing file, below.
  const noneMatch = request.headers.get("if-none-match")?.trim();
  const conditional = request.headers.has("if-match") || request.headers.has("if-unmodified-since") || (noneMatch !== undefined && noneMatch !== "*");
  const checkPreconditions = async () => {
    if (conditional && evaluatePreconditions(request.headers, await currentValidators(scope, path), "PUT") === "failed") throw preconditionFailed(path.label);
  };
  await checkPreconditions();
  const declared = request.headers.get("content-length");
  const size = declared !== null && /^\d+$/.test(declared) ? Number(declared) : undefined;
  const writer = await openUpload(scope, path, {
    // A key of its own per PUT (a PUT never resumes): concurrent PUTs to one path each get their own
    // partial file, and the last to finish wins, instead of unlinking each other's.
    key: `http-${crypto.randomUUID()}`,
    offset: 0,
    size,
    ifExists: request.headers.get("if-none-match")?.trim() === "*" ? "fail" : "overwrite",
    parents: true,
    mode: undefined,
  });
  try {
    if (request.body) {
      for await (const chunk of request.body) {
        // A write that fails (a full disk: ENOSPC) is the server's side, not a body that broke
        // off: it was answered 400 bad_message, blaming the client (found by a crash hunt).
        await writer.write(chunk).catch((error: unknown) => {
          throw toFileError(error, `write ${path.label}`);
        });
      }
    }
  } catch (error) {
    await writer.abandon(false);
    if (error instanceof FileError) throw error;
    throw new FileError("bad_message", `the request body ended early: ${(error as Error).message}`);
  }
  if (ended()) {
    await writer.abandon(false);
    throw new FileError("not_found", `${path.label}: the session ended while the body was being received; nothing was written`);
  }
  try {
    await checkPreconditions();
  } catch (error) {
    await writer.abandon(false);
    throw error;
  }
  const replacing = writer.replacing;
  const entry = await writer.commit();
  return new Response(`${JSON.stringify(entry)}\n`, { status: replacing ? 200 : 201, headers: { "content-type": "application/json" } });
}

function preconditionFailed(label: string): FileError {
  return new FileError("precondition_failed", `${label} is not the version the request's If-Match, If-Unmodified-Since or If-None-Match names (it changed, or is not there)`);
}

/** The validators of the file at `path` as it is now; undefined when there is none. */
async function currentValidators(scope: FileScope, path: ClientPath): Promise<FileValidators | undefined> {
  let reader: DownloadReader;
  try {
    reader = await openDownload(scope, path);
  } catch (error) {
    if (error instanceof FileError && error.code === "not_found") return undefined;
    throw error;
  }
  try {
    return fileValidatorsOf(await reader.statExactly());
  } finally {
    reader.close();
  }
}
