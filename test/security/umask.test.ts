import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../helpers/client.ts";
import { BUN, REPO_ROOT, startServer } from "../helpers/server-process.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";

/** The server started as a hardened service starts it: `UMask=0077` (deploy/bunker.service). */
const UNDER_UMASK_077 = ["/bin/sh", "-c", 'umask 077 && exec "$@"', "sh", BUN, join(REPO_ROOT, "src", "main.ts")];

for (const sandbox of ["bwrap", "none"] as const) {
  describe.skipIf(sandbox === "bwrap" && noBwrap)(`--sandbox ${sandbox}`, () => {
    test("commands start with umask 022, whatever the server's own: a service's UMask=0077 does not make their files private", async () => {
      await using server = await startServer({ command: UNDER_UMASK_077, args: ["--sandbox", sandbox] });
      await using client = await connect(server);
      // A PTY exec goes the same way (the reaper forks every command): the plain one is checked here.
      const run = await client.exec({ id: "mask", cmd: "umask; mkdir made-dir; echo data > made-file" });
      expect(run.stdout).toBe("0022\n");
      const modes = ["made-dir", "made-file"].map((name) => (statSync(join(client.hello.workspace, name)).mode & 0o777).toString(8));
      expect(modes).toEqual(["755", "644"]);
    });
  });
}
