import { existsSync } from "node:fs";
import { procFdScheme } from "./linux-proc-fd.ts";
import { createLexicalScheme } from "./lexical.ts";
import type { PathScheme } from "./path-scheme.ts";

export type { OpenDir, PathScheme } from "./path-scheme.ts";

/** The one place that picks how paths are walked: proc-fd where Linux has /proc, lexical elsewhere. */
export function selectPathScheme(platform: NodeJS.Platform = process.platform, hasProcFd = existsSync("/proc/self/fd")): PathScheme {
  return platform === "linux" && hasProcFd ? procFdScheme : createLexicalScheme(platform);
}
