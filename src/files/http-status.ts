import type { ErrorCode } from "../protocol/index.ts";
import type { FileError } from "./file-error.ts";

/** The HTTP status that carries each error code of a file request over HTTP. */
const STATUS_OF_CODE: Partial<Record<ErrorCode, number>> = {
  bad_message: 400,
  path_outside_workspace: 403,
  permission_denied: 403,
  forbidden_by_policy: 403,
  not_found: 404,
  is_directory: 409,
  not_directory: 409,
  unsupported_file_type: 409,
  exists: 412,
  precondition_failed: 412,
  too_large: 413,
  limit_exceeded: 429,
  quota_exceeded: 507,
};

/** An error as HTTP: the status above (500 otherwise), `code: message` as the body, the code in `X-Bunker-Error`. */
export function fileErrorResponse(error: FileError): Response {
  return new Response(`${error.code}: ${error.message}\n`, {
    status: STATUS_OF_CODE[error.code] ?? 500,
    // The message names the client's path: text, never sniffed into markup.
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff", "x-bunker-error": error.code },
  });
}
