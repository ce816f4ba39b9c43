/**
 * Whether bwrap works here. With REQUIRE_SANDBOX=1 (CI) a missing sandbox fails the run instead of
 * skipping; otherwise sandbox tests are skipped with the reason printed.
 */
import { execaSync } from "execa";

function bwrapWorks(): { ok: boolean; reason: string } {
  try {
    const result = execaSync("bwrap", ["--unshare-all", "--ro-bind", "/", "/", "/bin/true"], { reject: false });
    return result.exitCode === 0 ? { ok: true, reason: "" } : { ok: false, reason: String(result.stderr).trim() };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

const probe = process.platform === "linux" ? bwrapWorks() : { ok: false, reason: "not Linux" };
if (!probe.ok && process.env["REQUIRE_SANDBOX"] === "1") {
  throw new Error(`REQUIRE_SANDBOX=1 but bwrap does not work here: ${probe.reason}`);
}
if (!probe.ok) console.warn(`skipping bwrap tests: ${probe.reason}`);

/** True when bwrap tests must be skipped. */
export const noBwrap = !probe.ok;
