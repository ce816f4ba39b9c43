/**
 * What the server under test can do. The benchmarks ask instead of assuming, so that a row that
 * needs a feature says "not measured" on a server without it, and is measured as soon as it lands.
 */
import { statSync } from "node:fs";
import { execa } from "execa";
import { BUN, REPO_ROOT } from "../../test/helpers/server-process.ts";
import type { BenchContext } from "../types.ts";
import type { BunkerConnection } from "./bunker-client.ts";
import { withDeadline } from "./deadline.ts";

/** How long a probe's tiny exec may take before the feature counts as broken. */
const PROBE_DEADLINE_MS = 5000;

/** Whether the server sends binary output frames (exec `encoding: "binary"`). */
export async function hasBinaryFrames(client: BunkerConnection): Promise<boolean> {
  let bytes = 0;
  try {
    await withDeadline(
      client.exec(
        { id: "probe-binary-frames", argv: ["echo", "hi"], encoding: "binary" },
        { onOutput: (chunk) => (bytes += typeof chunk.data === "string" ? Number.NaN : chunk.data.byteLength) },
      ),
      PROBE_DEADLINE_MS,
      "`echo hi` with binary frames",
    );
  } catch {
    return false;
  }
  return bytes === 3;
}

/**
 * Whether the server runs an exec on a pseudo-terminal (exec `pty`): "supported", "refused" (the
 * server does not know `pty`), or why it is broken (accepted, but `tty` did not run to its exit).
 */
export async function probePtyExecs(client: BunkerConnection): Promise<"supported" | "refused" | { broken: string }> {
  let started = false;
  try {
    const exit = await withDeadline(
      client.exec({ id: "probe-pty", argv: ["tty"], pty: { cols: 80, rows: 24 } }, { onStarted: () => (started = true) }),
      PROBE_DEADLINE_MS,
      "`tty` on a PTY",
    );
    // `tty` exits 0 only when its stdin is a terminal (under bwrap it is called /dev/console).
    return exit.code === 0 ? "supported" : { broken: `\`tty\` on a PTY exited ${exit.code ?? exit.signal}` };
  } catch (error) {
    return started ? { broken: (error as Error).message } : "refused";
  }
}

/** Whether `bunker serve --help` of the server under test lists `flag` (such as "--max-sessions"). */
export async function hasServeFlag(context: BenchContext, flag: string): Promise<boolean> {
  const [program, ...args] = context.serverCommand ?? [BUN, `${REPO_ROOT}/src/main.ts`];
  const help = await execa(program!, [...args, "serve", "--help"], { reject: false, timeout: 30_000 });
  return new RegExp(`^\\s+${flag}\\b`, "m").test(help.stdout);
}

/** A host uid and gid. */
export interface BenchRunAs {
  uid: number;
  gid: number;
}

/**
 * The uid and gid the server runs commands as (`--run-as`; nobody by default for a server running
 * as root), read from the owner of a session's workspace, which the server gives to that user: a
 * bare spawn beside the server must run as the same user to be the same spawn. undefined when
 * commands run as this process's own user.
 */
export function runAsOf(workspace: string): BenchRunAs | undefined {
  const { uid, gid } = statSync(workspace);
  return uid === process.geteuid?.() ? undefined : { uid, gid };
}
