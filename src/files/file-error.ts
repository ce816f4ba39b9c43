import type { ErrorCode } from "../protocol/index.ts";

/** A file operation that could not be done, with the stable code the client gets. */
export class FileError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "FileError";
  }
}

/** The errno name of a failed system call, such as "ENOENT"; undefined for other errors. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

const CODE_OF_ERRNO: Record<string, ErrorCode> = {
  ENOENT: "not_found",
  ENOTDIR: "not_directory",
  EISDIR: "is_directory",
  EEXIST: "exists",
  ENOTEMPTY: "exists",
  EDQUOT: "quota_exceeded",
  ENOSPC: "quota_exceeded",
  ENAMETOOLONG: "bad_message",
  EINVAL: "bad_message",
  ENXIO: "unsupported_file_type",
  EACCES: "permission_denied",
  EPERM: "permission_denied",
  // Read-only is a fact about the path, like its mode bits, and nothing the server can fix.
  EROFS: "permission_denied",
};

/**
 * Turns whatever a file operation threw into a FileError: FileErrors pass through, errnos get
 * their code, and anything else is `internal`. `doing` completes "could not ...".
 */
export function toFileError(error: unknown, doing: string): FileError {
  if (error instanceof FileError) return error;
  const errno = errnoOf(error);
  const code = (errno && CODE_OF_ERRNO[errno]) || "internal";
  const reason = errno ?? (error as Error)?.message ?? String(error);
  return new FileError(code, `could not ${doing}: ${reason}`);
}
