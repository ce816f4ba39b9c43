import { describe, expect, test } from "bun:test";
import { createLogger, formatLogLine } from "../../src/server/log.ts";
import { createLogBudget } from "../../src/server/log-budget.ts";
import { execAuditFields, shortenArgv, shortenCmd } from "../../src/server/log-audit.ts";
import { startServer } from "../helpers/server-process.ts";
import { connect } from "../helpers/client.ts";

const TIME = () => new Date("2024-06-10T12:00:00.000Z");

describe("log lines", () => {
  test("json: one object a line, the fixed keys first and never replaced by a field", () => {
    expect(JSON.parse(formatLogLine("json", TIME, "info", "exec.end", { session: "s1", level: "spoofed", code: 0, argv: ["ls"] }, undefined))).toEqual({
      time: "2024-06-10T12:00:00.000Z",
      level: "info",
      event: "exec.end",
      session: "s1",
      code: 0,
      argv: ["ls"],
    });
  });

  test("pretty: the sentence when there is one, else the event and key=value pairs quoted where needed", () => {
    expect(formatLogLine("pretty", TIME, "info", "listening", { port: 1 }, "bunker listening on ws://127.0.0.1:1/ws")).toBe("bunker listening on ws://127.0.0.1:1/ws");
    expect(formatLogLine("pretty", TIME, "info", "exec.end", { session: "s1", cmd: "echo a\nb", signal: null, skipped: undefined }, undefined)).toBe(
      'exec.end session=s1 cmd="echo a\\nb" signal=null',
    );
  });

  test("lines below the level are not written", () => {
    const lines: string[] = [];
    const log = createLogger({ format: "json", level: "warn", write: (line) => lines.push(line), now: TIME });
    log.info("quiet");
    log.warn("loud", { n: 1 });
    log.error("louder");
    expect(lines.map((line) => JSON.parse(line).event)).toEqual(["loud", "louder"]);
    expect(lines.every((line) => line.endsWith("}\n"))).toBe(true);
    expect(log.enabled("debug")).toBe(false);
  });

  test("a log budget writes at most its lines a second and says how many it left out", () => {
    const budget = createLogBudget(2);
    expect([0, 1, 2, 3, 500].map((ms) => budget.take(ms))).toEqual([
      { allowed: true, suppressed: 0 },
      { allowed: true, suppressed: 0 },
      { allowed: false },
      { allowed: false },
      { allowed: false },
    ]);
    expect(budget.take(1000)).toEqual({ allowed: true, suppressed: 3 });
  });
});

describe("audit fields", () => {
  test("argv is cut to 16 items of 80 characters, cmd to 200 characters, each saying what was left out", () => {
    expect(shortenArgv(["a".repeat(81), ...Array.from({ length: 17 }, (_, index) => String(index))])).toEqual([
      `${"a".repeat(80)}…(81 chars)`,
      ...Array.from({ length: 15 }, (_, index) => String(index)),
      "…(2 more)",
    ]);
    expect(shortenCmd("x".repeat(250))).toBe(`${"x".repeat(200)}…(250 chars)`);
  });

  test("an ended exec: who ran what where, and how it ended; nothing of its env", () => {
    const fields = execAuditFields({
      session: "s1",
      cwd: "/ws/s1",
      exec: {
        id: "e1",
        cmd: "make",
        pty: false,
        state: "exited",
        pid: 42,
        startedAt: 0,
        exit: { code: 2, signal: null, reason: "exited", durationMs: 15 },
        bytes: { stdout: 10, stderr: 3 },
      },
    });
    expect(fields).toEqual({ session: "s1", exec: "e1", cmd: "make", cwd: "/ws/s1", pty: false, pid: 42, code: 2, signal: null, reason: "exited", durationMs: 15, stdoutBytes: 10, stderrBytes: 3 });
  });
});

type LogRecord = Record<string, unknown>;

function records(stderr: string): LogRecord[] {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogRecord);
}

/** A record without the fields that vary from run to run. */
function stable(record: LogRecord | undefined): LogRecord | undefined {
  if (!record) return undefined;
  const { time: _time, durationMs: _duration, pid: _pid, ...rest } = record;
  return rest;
}

test("json logs: an audit line per exec and per connection, and never the token, a resume secret, an env value or output", async () => {
  await using server = await startServer({ args: ["--log-format", "json", "--host-id", "audit-host"] });
  const secretValue = "env-value-that-must-not-be-logged";
  const outputMarker = "output-that-must-not-be-logged";
  let session = "";
  let resumeSecret = "";
  let workspace = "";
  {
    await using client = await connect(server);
    ({ session, workspace } = client.hello);
    resumeSecret = client.hello.resumeSecret!;
    const run = await client.exec({ id: "audited", cmd: `printf '%s' "$SECRET" | wc -c; echo ${outputMarker}`, env: { SECRET: secretValue } });
    expect(run.exit.reason).toBe("exited");
  }
  {
    await using resumed = await connect(server, { query: { session }, protocols: ["bunker.v1", `bunker.resume.${resumeSecret}`] });
    expect(resumed.hello.resumed).toBe(true);
  }
  const refused = await fetch(`http://127.0.0.1:${server.port}/ws`, { headers: { upgrade: "websocket", authorization: "Bearer wrong-token-but-long-enough" } });
  expect(refused.status).toBe(401);
  await server.stop();

  const logged = records(server.stderr());
  const execFields = { level: "info", session, exec: "audited", cmd: `printf '%s' "$SECRET" | wc -c; echo ${outputMarker}`, cwd: workspace, pty: false };
  expect(stable(logged.find((record) => record["event"] === "exec.start"))).toEqual({ ...execFields, event: "exec.start" });
  expect(stable(logged.find((record) => record["event"] === "exec.end"))).toEqual({
    ...execFields,
    event: "exec.end",
    code: 0,
    signal: null,
    reason: "exited",
    stdoutBytes: 3 + outputMarker.length + 1,
    stderrBytes: 0,
  });
  expect(logged.filter((record) => record["event"] === "connection.close").map(stable)).toEqual([
    { level: "info", event: "connection.close", remote: "127.0.0.1", auth: "ok", session, code: 1005, messages: 1 },
    { level: "info", event: "connection.close", remote: "127.0.0.1", auth: "ok", session, code: 1005, messages: 0 },
  ]);
  expect(stable(logged.find((record) => record["event"] === "connection.refused"))).toEqual({
    level: "info",
    event: "connection.refused",
    remote: "127.0.0.1",
    auth: "wrong",
    reason: "unauthorized",
    status: 401,
  });
  // The shell line holds the marker as the client sent it; what must never appear is the output
  // line on its own, the env value, and the secrets.
  const text = server.stderr();
  for (const secret of [server.token!, resumeSecret, secretValue, "wrong-token-but-long-enough"]) expect(text).not.toContain(secret);
  expect(text.split("\n").filter((line) => line.includes(outputMarker) && !line.includes(`echo ${outputMarker}`))).toEqual([]);
  expect(logged.every((record) => typeof record["time"] === "string" && typeof record["event"] === "string")).toBe(true);
});

test("pretty logs keep the startup sentences tests and people read", async () => {
  await using server = await startServer({ token: "generate" });
  // A WARNING line comes first on a host without bwrap.
  const lines = server.stderr().split("\n").filter((line) => !line.startsWith("WARNING"));
  expect(lines[0]).toMatch(/^bunker listening on ws:\/\/127\.0\.0\.1:\d+\/ws \(sandbox: \w+, workspaces: .+\)$/);
  expect(lines[1]).toMatch(/^token generated for this run: http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
});

test("--log-level warn still says where the server listens: with --port 0 nothing else would tell", async () => {
  // startServer waits for exactly this sentence; it would time out without it.
  await using server = await startServer({ args: ["--log-level", "warn"] });
  expect(server.stderr()).toContain(`bunker listening on ws://127.0.0.1:${server.port}/ws`);
});

test("--log-format json refuses to generate a token, which would land in the collected logs", async () => {
  const proc = Bun.spawn([process.execPath, "src/main.ts", "serve", "--port", "0", "--log-format", "json"], { stderr: "pipe", env: { PATH: process.env["PATH"] ?? "" } });
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toBe(
    "bunker: --log-format: json logs go to collectors, and a generated token would be printed into them; set --token, BUNKER_TOKEN or token in the config file (or --no-auth)\n",
  );
});
