/**
 * A resumed `hello` lists every exec the session remembers with enough of its command to name it,
 * not the whole request: an agent's session that writes files through heredocs remembers up to
 * 8 MiB of requests, and every reconnect of a page carried all of it (noted by a soak; measured:
 * 8.4 MB for a session of 200 files of 50 KB). `list` and a resent `exec`'s `state` still carry
 * a command whole.
 */
import { expect, test } from "bun:test";
import { HELLO_COMMAND_BYTES, type ExecInfo, type ServerMessage } from "../../src/protocol/index.ts";
import { connect, type TestClient } from "../helpers/client.ts";
import { startServer, type TestServer } from "../helpers/server-process.ts";

const resume = (server: TestServer, { session, resumeSecret }: TestClient["hello"]) =>
  connect(server, { query: { session }, protocols: ["bunker.v1", `bunker.resume.${resumeSecret!}`] });

const listed = async (client: TestClient): Promise<ExecInfo[]> => {
  client.send({ type: "list", id: "l" });
  return (await client.next<Extract<ServerMessage, { type: "execs" }>>((m) => m.type === "execs")).execs;
};

/** A heredoc that writes `bytes` of text into `file`, as agents write files. */
const heredoc = (file: string, bytes: number) => `cat > ${file} <<'EOF'\n${"print('hello')\n".repeat(Math.ceil(bytes / 15))}EOF`;

test("a resumed hello names each exec by the start of its command; list and state carry it whole", async () => {
  await using server = await startServer({ args: ["--sandbox", "none"] });
  await using agent = await connect(server);
  const long = heredoc("long.py", 50_000);
  const longArgv = ["printf", "%s", "é".repeat(HELLO_COMMAND_BYTES)];
  expect((await agent.exec({ id: "short", argv: ["echo", "hi"] })).exit.code).toBe(0);
  expect((await agent.exec({ id: "long", cmd: long })).exit.code).toBe(0);
  expect((await agent.exec({ id: "long-argv", argv: longArgv })).exit.code).toBe(0);
  expect((await agent.exec({ id: "in-shell", cmd: long, shell: "main" })).exit.code).toBe(0);

  await using back = await resume(server, agent.hello);
  const commands = back.hello.execs.map(({ id, argv, cmd, commandTruncated }) => ({ id, argv, cmd, commandTruncated }));
  // The argument crossing the bound keeps whole characters: é is 2 bytes, and "printf" and "%s" 8.
  const keptChars = (HELLO_COMMAND_BYTES - "printf".length - "%s".length) / 2;
  expect(commands).toEqual([
    { id: "short", argv: ["echo", "hi"], cmd: undefined, commandTruncated: undefined },
    { id: "long", argv: undefined, cmd: long.slice(0, HELLO_COMMAND_BYTES), commandTruncated: true },
    { id: "long-argv", argv: ["printf", "%s", "é".repeat(keptChars)], cmd: undefined, commandTruncated: true },
    { id: "in-shell", argv: undefined, cmd: long.slice(0, HELLO_COMMAND_BYTES), commandTruncated: true },
  ]);

  const whole = (await listed(back)).map(({ id, argv, cmd, commandTruncated }) => ({ id, argv, cmd, commandTruncated }));
  expect(whole).toEqual([
    { id: "short", argv: ["echo", "hi"], cmd: undefined, commandTruncated: undefined },
    { id: "long", argv: undefined, cmd: long, commandTruncated: undefined },
    { id: "long-argv", argv: longArgv, cmd: undefined, commandTruncated: undefined },
    { id: "in-shell", argv: undefined, cmd: long, commandTruncated: undefined },
  ]);
  back.send({ type: "exec", id: "long", cmd: long });
  const state = await back.next<Extract<ServerMessage, { type: "state" }>>((m) => m.type === "state");
  expect([state.exec.cmd === long, state.exec.commandTruncated]).toEqual([true, undefined]);
});

test("the hello that resumes a session of 150 files written through heredocs stays small: 6 MB of requests", async () => {
  await using server = await startServer({ args: ["--sandbox", "none"] });
  await using agent = await connect(server);
  for (let i = 0; i < 150; i++) expect((await agent.exec({ id: `write-${i}`, cmd: heredoc(`f${i}.py`, 40_000) })).exit.code).toBe(0);
  await using back = await resume(server, agent.hello);
  expect(back.hello.execs.length).toBe(150);
  // Measured: 120 KB (8.1 MB with each command whole).
  // Measured: 74 KB; 6.4 MB with each command whole.
  expect(JSON.stringify(back.hello).length).toBeLessThan(150 * 1024);
});
