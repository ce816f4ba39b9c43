/**
 * What a killed server left in its root: a server deletes the workspaces that ending sessions had
 * set aside (`.ended-…`) and the spare workspaces of servers no longer running, and nothing else. Workspaces under their own names stay, whoever left
 * them: from another host sharing the root they may be a live server's (a first version that swept
 * them could delete those, found by a review).
 */
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NAMING_KEY_FILE, workspaceNameFor } from "../../src/workspace/naming.ts";
import { startServer } from "../helpers/server-process.ts";

const scratch = mkdtempSync(join(tmpdir(), "bunker-ended-workspaces-"));
// A server running as root runs commands as another uid, which must pass through to the roots.
chmodSync(scratch, 0o711);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test("set-aside workspaces go just after listening; workspaces under their names and what is not bunker's stay", async () => {
  const root = mkdtempSync(join(scratch, "root-"));
  chmodSync(root, 0o711);
  const ended = [`.ended-${workspaceNameFor("a")}-a1b2c3`, `.ended-${workspaceNameFor("b")}-d4e5f6`];
  const kept = [workspaceNameFor("named:project"), "my-project"];
  for (const name of [...ended, ...kept]) {
    mkdirSync(join(root, name));
    writeFileSync(join(root, name, "file.txt"), "x");
  }
  writeFileSync(join(root, "notes.txt"), "not bunker's");
  // Spares (spare-workspace.ts): one of a server that is gone, one of a process still running (this one).
  const gone = Bun.spawnSync(["true"]).pid;
  mkdirSync(join(root, `.spare-${gone}-AAAAAAAAAAAAAAAAAAAAAA`));
  const running = `.spare-${process.pid}-BBBBBBBBBBBBBBBBBBBBBB`;
  mkdirSync(join(root, running));
  kept.push(running);
  await using server = await startServer({ workspaceRoot: root, args: ["--sandbox", "none"] });
  // Written just after the listening line: maybe already read with it, maybe not yet.
  const swept = /removed (\d+) workspaces? of sessions that had ended/;
  const line = swept.exec(server.stderr()) ?? (await server.nextStderr(swept));
  expect(Number(line[1])).toBe(2);
  // The server's own files (its registration, the key of workspace names, its spare) aside; the
  // gone server's spare went uncounted.
  const own = (name: string) => name.startsWith(".bunker-server.") || name === NAMING_KEY_FILE || name.startsWith(`.spare-${server.pid}-`);
  expect(readdirSync(root).filter((name) => !own(name)).sort()).toEqual([...kept, "notes.txt"].sort());
});
