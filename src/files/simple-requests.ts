import type { FileReply, FileRequestOf } from "../protocol/index.ts";
import { decodeDataInput } from "../common/base64-input.ts";
import { FileError } from "./file-error.ts";
import { clientPath, type FileScope } from "./file-scope.ts";
import { listDirectory, statPath } from "./inspect.ts";
import { makeDirectory } from "./make-directory.ts";
import { movePath } from "./move-path.ts";
import { readFileRange } from "./read-file.ts";
import { removePath } from "./remove-tree.ts";
import { writeFile } from "./write-file.ts";

/** Requests answered by exactly one reply. */
export type SimpleFileRequest = FileRequestOf<"file.stat" | "file.list" | "file.read" | "file.write" | "file.mkdir" | "file.move" | "file.remove">;

/** The `type`s of SimpleFileRequest. */
export const SIMPLE_REQUEST_TYPES: readonly SimpleFileRequest["type"][] = ["file.stat", "file.list", "file.read", "file.write", "file.mkdir", "file.move", "file.remove"];

/** Whether a file request is answered by one reply (and runs in the request queue). */
export function isSimpleRequest(message: { type: string }): message is SimpleFileRequest {
  return (SIMPLE_REQUEST_TYPES as readonly string[]).includes(message.type);
}

/** Does one request and returns its reply; failures throw FileError. */
export async function answerSimpleRequest(scope: FileScope, message: SimpleFileRequest): Promise<FileReply> {
  const { id } = message;
  switch (message.type) {
    case "file.stat": {
      const path = clientPath(scope, message.path);
      return { type: "file.stat.result", id, ...(await statPath(scope, path)) };
    }
    case "file.list": {
      const path = clientPath(scope, message.path);
      return { type: "file.list.result", id, ...(await listDirectory(scope, path, message.depth ?? 1)) };
    }
    case "file.read": {
      const path = clientPath(scope, message.path);
      const encoding = message.encoding ?? "utf8";
      const range = await readFileRange(scope, path, message.offset ?? 0, message.length);
      const data = range.bytes.toString(encoding === "base64" ? "base64" : "utf8");
      return { type: "file.read.result", id, offset: range.offset, bytes: range.bytes.length, size: range.size, eof: range.eof, encoding, data };
    }
    case "file.write": {
      const path = clientPath(scope, message.path);
      const decoded = decodeDataInput(message.data, message.encoding, "data");
      if (!decoded.ok) throw new FileError("bad_message", decoded.problem);
      const entry = await writeFile(scope, path, decoded.bytes, {
        ifExists: message.ifExists ?? "overwrite",
        parents: message.parents ?? true,
        mode: message.mode,
      });
      return { type: "file.write.result", id, entry };
    }
    case "file.mkdir": {
      const path = clientPath(scope, message.path);
      return { type: "file.mkdir.result", id, ...(await makeDirectory(scope, path, { parents: message.parents ?? false, mode: message.mode })) };
    }
    case "file.move": {
      const entry = await movePath(scope, clientPath(scope, message.from, "from"), clientPath(scope, message.to, "to"), {
        overwrite: message.overwrite ?? false,
        parents: message.parents ?? false,
      });
      return { type: "file.move.result", id, entry };
    }
    case "file.remove": {
      const path = clientPath(scope, message.path);
      await removePath(scope, path, message.recursive ?? false);
      return { type: "file.remove.result", id };
    }
    default: {
      const unreachable: never = message;
      return unreachable;
    }
  }
}
