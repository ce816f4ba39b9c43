import { createHash } from "node:crypto";

/** The sha256 of text (as UTF-8) or bytes, in hex as sha256sum prints it. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
