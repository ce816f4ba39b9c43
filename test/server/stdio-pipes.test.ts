import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { connect } from "../helpers/client.ts";
import { startServer } from "../helpers/server-process.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { pollProc } from "../helpers/proc.ts";

// A command's stdin, stdout and stderr are pipes, as under kubectl exec or a shell pipeline: scripts
// open them again by name. Bun's socketpairs could not be opened through /proc (ENXIO), and a pipe
// the server made is its own, mode 0600, until given to the command's user.
for (const sandbox of ["bwrap", "none"] as const) {
  describe.skipIf(sandbox === "bwrap" && noBwrap)(`--sandbox ${sandbox}`, () => {
    test("/dev/stdin, /dev/stdout and /dev/stderr open and are pipes, for the command's user too", async () => {
      await using server = await startServer({ args: ["--sandbox", sandbox] });
      await using client = await connect(server);
      const script = [
        "[ -p /dev/stdin ] && [ -p /dev/stdout ] && [ -p /dev/stderr ] && echo all-pipes",
        "echo to-stderr > /dev/stderr",
        "printf 'to-stdout\\n' > /dev/stdout",
        "cat /dev/stdin",
        "id -u",
      ].join("; ");
      client.send({ type: "exec", id: "stdio", cmd: script, stdin: true });
      await client.next((message) => message.type === "started" && message.id === "stdio");
      client.send({ type: "stdin", id: "stdio", data: "from-stdin\n", eof: true });
      const run = await client.runToExit("stdio");
      const uid = client.hello.sandbox.policy?.runAs?.uid ?? process.geteuid!();
      expect({ stdout: run.stdout, stderr: run.stderr, code: run.exit.code }).toEqual({
        stdout: `all-pipes\nto-stdout\nfrom-stdin\n${uid}\n`,
        stderr: "to-stderr\n",
        code: 0,
      });
    });

    test("a command that never reads its stdin still exits, and its stdin is closed: no fd is left open", async () => {
      await using server = await startServer({ args: ["--sandbox", sandbox] });
      await using client = await connect(server);
      const openFds = () => readdirSync(`/proc/${server.pid}/fd`).length;
      const runQuiet = async (id: string) => {
        client.send({ type: "exec", id, argv: ["true"], stdin: true });
        client.send({ type: "stdin", id, data: "unread\n" });
        expect((await client.runToExit(id)).exit.code).toBe(0);
      };
      // The first exec opens what later ones keep (spare files one exec ahead, see spare-fds.ts).
      await runQuiet("first");
      const fdsBefore = openFds();
      for (let i = 0; i < 20; i++) await runQuiet(`quiet-${i}`);
      // The last bwrap may still be exiting, holding its status pipes for a moment, and the last
      // stdin pipe closes once its writer has let go: watch them go. A leak (one per exec) never does.
      await pollProc(() => openFds() <= fdsBefore);
    });
  });
}
