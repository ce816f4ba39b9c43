/**
 * What a session keeps to tell a resent exec from a new one with the same id (exec-record.ts): a
 * digest and a size, not a second copy of the request as text.
 */
import { expect, test } from "bun:test";
import { fingerprintOf } from "../../src/server/exec-record.ts";
import type { ExecMessage } from "../../src/protocol/index.ts";

const exec = (cmd: string): ExecMessage => ({ type: "exec", id: "a", cmd }) as ExecMessage;

test("the same request has the same fingerprint, any other request another", () => {
  expect(fingerprintOf(exec("echo hi")).digest).toBe(fingerprintOf(exec("echo hi")).digest);
  expect(fingerprintOf(exec("echo hi")).digest).not.toBe(fingerprintOf(exec("echo ho")).digest);
  expect(fingerprintOf({ ...exec("echo hi"), timeoutMs: 5 } as ExecMessage).digest).not.toBe(fingerprintOf(exec("echo hi")).digest);
});

test("a large request keeps a digest of a few dozen bytes, and its size in UTF-8 bytes for the record budget", () => {
  const cmd = `cat > notes.txt <<'EOF'\n${"é".repeat(50_000)}\nEOF`;
  const fingerprint = fingerprintOf(exec(cmd));
  expect(fingerprint.digest.length).toBeLessThanOrEqual(64);
  expect(fingerprint.bytes).toBe(Buffer.byteLength(JSON.stringify(exec(cmd))));
  expect(fingerprint.bytes).toBeGreaterThan(100_000);
});
