// The session's network namespace under a server that is not root (a developer's machine: no
// --run-as, commands as the server's own uid), where netns and enter run as that uid too.
import { expect, test } from "bun:test";
import { readlinkSync } from "node:fs";
import { connect } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { canRunAsUser, useServerAsUser } from "../helpers/server-as-user.ts";
import { connectTcp, perl } from "./helpers/perl-attempts.ts";

const shared = useServerAsUser(["--sandbox", "bwrap"], !noBwrap);

test.skipIf(noBwrap || !canRunAsUser)("a server that is not root gives a session's commands one loopback of their own, shared", async () => {
  const { server } = shared;
  if (!server) throw new Error("needs root and setpriv to run the server as another uid");
  await using client = await connect(server);
  client.send({
    type: "exec",
    id: "listener",
    argv: perl('use IO::Socket::IP; $| = 1; my $l = IO::Socket::IP->new(LocalHost => "127.0.0.1", LocalPort => 0, Listen => 1) or die "$!\\n"; print "port ", $l->sockport, "\\n"; my $c = $l->accept; print $c "as-user\\n"; close $c'),
  });
  const output = await client.next((message) => message.type === "output" && message.id === "listener");
  const port = Number(/^port (\d+)$/m.exec((output as { data: string }).data)?.[1]);
  const reached = await client.exec({ id: "reach", argv: connectTcp("127.0.0.1", port) });
  expect(reached.stdout).toBe("connected: as-user\n");
  const namespace = await client.exec({ id: "which", argv: ["readlink", "/proc/self/ns/net"] });
  expect(namespace.stdout.trim()).toMatch(/^net:\[\d+\]$/);
  expect(namespace.stdout.trim()).not.toBe(readlinkSync("/proc/self/ns/net"));
  await client.runToExit("listener");
});
