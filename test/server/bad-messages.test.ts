import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServer, type TestServer } from "../helpers/server-process.ts";
import { connect, type TestClient } from "../helpers/client.ts";

describe("bad messages get an error and the connection goes on", () => {
  let server: TestServer;
  let client: TestClient;
  beforeAll(async () => {
    server = await startServer();
    client = await connect(server);
  });
  afterAll(async () => {
    await client[Symbol.asyncDispose]();
    await server[Symbol.asyncDispose]();
  });

  const cases: [string, string, Record<string, unknown>][] = [
    ["not JSON", "{nope", { code: "bad_message", message: "the frame is not valid JSON" }],
    ["a JSON array", "[1,2]", { code: "bad_message", message: "a message must be a JSON object" }],
    ["an unknown type", JSON.stringify({ type: "launch", id: "u" }), { id: "u", code: "bad_message", message: expect.stringContaining("type: unknown message type \"launch\"") }],
    ["an exec with neither argv nor cmd", JSON.stringify({ type: "exec", id: "n" }), { id: "n", code: "bad_message", message: "exec needs exactly one of argv and cmd" }],
    ["an exec with both argv and cmd", JSON.stringify({ type: "exec", id: "b", argv: ["ls"], cmd: "ls" }), { id: "b", code: "bad_message", message: "exec needs exactly one of argv and cmd" }],
    ["an id of 1000 characters", JSON.stringify({ type: "exec", id: "x".repeat(1000), argv: ["ls"] }), { code: "bad_message", message: "id: must be 1 to 64 characters" }],
    ["an env with a non-string value", JSON.stringify({ type: "exec", id: "e", argv: ["ls"], env: { A: 1 } }), { id: "e", code: "bad_message", message: "env.A: values must be strings" }],
    ["an argv with NUL", JSON.stringify({ type: "exec", id: "z", argv: ["ls", "a\u0000b"] }), { id: "z", code: "bad_message", message: "argv[1]: must not contain NUL" }],
    ["a negative timeout", JSON.stringify({ type: "exec", id: "t", argv: ["ls"], timeoutMs: -1 }), { id: "t", code: "bad_message", message: "timeoutMs: must be >= 0" }],
    ["an unknown signal", JSON.stringify({ type: "signal", id: "s", signal: "SIGTSTP" }), { id: "s", code: "bad_message", message: expect.stringContaining("signal: must be one of") }],
    ["cwd ../..", JSON.stringify({ type: "exec", id: "c", argv: ["ls"], cwd: "../.." }), { id: "c", code: "path_outside_workspace", message: expect.stringContaining("outside the workspace") }],
    ["an absolute cwd outside", JSON.stringify({ type: "exec", id: "a", argv: ["ls"], cwd: "/etc" }), { id: "a", code: "path_outside_workspace", message: expect.any(String) }],
    ["a cwd that does not exist", JSON.stringify({ type: "exec", id: "m", argv: ["ls"], cwd: "missing" }), { id: "m", code: "not_found", message: expect.any(String) }],
    ["stdin to an unknown exec", JSON.stringify({ type: "stdin", id: "ghost", data: "x" }), { id: "ghost", code: "unknown_exec", message: expect.any(String) }],
    ["a signal to an unknown exec", JSON.stringify({ type: "signal", id: "ghost", signal: "SIGINT" }), { id: "ghost", code: "unknown_exec", message: expect.any(String) }],
  ];

  for (const [name, frame, expected] of cases) {
    test(`${name} gets the specified error, and echo ok still runs`, async () => {
      client.sendRaw(frame);
      const error = await client.next((m) => m.type === "error");
      expect(error).toEqual({ type: "error", ...expected } as never);
      const run = await client.exec({ id: `ok-${name}`, argv: ["echo", "ok"] });
      expect(run.stdout).toBe("ok\n");
    });
  }

  test("a binary frame gets bad_message", async () => {
    client.sendRaw(new Uint8Array([1, 2, 3]));
    expect(await client.next((m) => m.type === "error")).toMatchObject({ code: "bad_message" });
  });

  test("a reused id with a different request gets duplicate_id, finished or not", async () => {
    await client.exec({ id: "once", argv: ["true"] });
    client.send({ type: "exec", id: "once", argv: ["false"] });
    expect(await client.next((m) => m.type === "error" && m.id === "once")).toMatchObject({ code: "duplicate_id" });
  });

  test("stdin and signal to an exec that has exited get invalid_state", async () => {
    await client.exec({ id: "gone", argv: ["true"] });
    client.send({ type: "stdin", id: "gone", data: "x" });
    expect(await client.next((m) => m.type === "error" && m.id === "gone")).toMatchObject({ code: "invalid_state" });
    client.send({ type: "signal", id: "gone", signal: "SIGINT" });
    expect(await client.next((m) => m.type === "error" && m.id === "gone")).toMatchObject({ code: "invalid_state" });
  });
});

test("a 2 MiB frame closes the connection with 1009", async () => {
  await using server = await startServer();
  const client = await connect(server);
  client.sendRaw(JSON.stringify({ type: "exec", id: "big", cmd: "x".repeat(2 * 1024 * 1024) }));
  expect((await client.closed).code).toBe(1009);
});

test("more execs than the session limit get limit_exceeded", async () => {
  await using server = await startServer({ args: ["--max-execs-per-session", "2"] });
  await using client = await connect(server);
  client.send({ type: "exec", id: "one", argv: ["sleep", "30"] });
  client.send({ type: "exec", id: "two", argv: ["sleep", "30"] });
  client.send({ type: "exec", id: "three", argv: ["sleep", "30"] });
  expect(await client.next((m) => m.type === "error" && m.id === "three")).toMatchObject({ code: "limit_exceeded" });
});

test("stdin that a command never reads is bounded: limit_exceeded, and the server survives the command's exit", async () => {
  await using server = await startServer();
  await using client = await connect(server);
  client.send({ type: "exec", id: "deaf", argv: ["sleep", "1"], stdin: true });
  await client.next((m) => m.type === "started" && m.id === "deaf");
  const chunk = "x".repeat(900_000);
  for (let i = 0; i < 12; i++) client.send({ type: "stdin", id: "deaf", data: chunk });
  expect(await client.next((m) => m.type === "error" && m.id === "deaf")).toMatchObject({ code: "limit_exceeded" });
  await client.runToExit("deaf");
  const run = await client.exec({ id: "alive", argv: ["echo", "ok"] });
  expect(run.stdout).toBe("ok\n");
});
