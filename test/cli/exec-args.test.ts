import { expect, test } from "bun:test";
import { DEFAULT_RECONNECT_TIMEOUT_MS, DEFAULT_URL, normalizeUrl, parseEnvAssignments, parseExecArgs, splitCommand } from "../../src/cli/exec-args.ts";
import { UsageError } from "../../src/cli/usage-error.ts";

test("defaults: the local server, stdin decided by the terminal, no PTY", () => {
  expect(parseExecArgs(["--", "ls"], {})).toEqual({
    url: DEFAULT_URL,
    token: undefined,
    tokenSource: undefined,
    tty: "never",
    stdin: "auto",
    env: {},
    cwd: undefined,
    name: undefined,
    timeoutMs: undefined,
    readOnly: false,
    noNetwork: false,
    reconnectTimeoutMs: DEFAULT_RECONNECT_TIMEOUT_MS,
    argv: ["ls"],
  });
});

test("--read-only and --no-network narrow the command's sandbox, and stay bunker's flags before the command", () => {
  expect(parseExecArgs(["--read-only", "--no-network", "make", "--read-only"], {})).toMatchObject({ readOnly: true, noNetwork: true, argv: ["make", "--read-only"] });
});

test("the command starts after -- or at the first argument that is not a flag", () => {
  expect(splitCommand(["-t", "--", "ls", "-la"])).toEqual({ flags: ["-t"], command: ["ls", "-la"] });
  expect(splitCommand(["-t", "ls", "-la", "--", "x"])).toEqual({ flags: ["-t"], command: ["ls", "-la", "--", "x"] });
  expect(splitCommand(["-e", "A=1", "--cwd", "src", "make"])).toEqual({ flags: ["-e", "A=1", "--cwd", "src"], command: ["make"] });
  expect(splitCommand(["-te", "A=1", "sh"])).toEqual({ flags: ["-te", "A=1"], command: ["sh"] });
  expect(splitCommand(["--url=ws://h/ws", "env"])).toEqual({ flags: ["--url=ws://h/ws"], command: ["env"] });
});

test("flags win over BUNKER_URL and BUNKER_TOKEN", () => {
  const env = { BUNKER_URL: "ws://env:1/ws", BUNKER_TOKEN: "env-token" };
  expect(parseExecArgs(["true"], env)).toMatchObject({ url: "ws://env:1/ws", token: "env-token", tokenSource: "BUNKER_TOKEN" });
  expect(parseExecArgs(["--url", "ws://flag:2/ws", "--token", "flag-token", "true"], env)).toMatchObject({ url: "ws://flag:2/ws", token: "flag-token", tokenSource: "--token" });
});

test("an empty token is blamed on where it came from: BUNKER_TOKEN, or --token", () => {
  expect(() => parseExecArgs(["true"], { BUNKER_TOKEN: "" })).toThrow(new UsageError("BUNKER_TOKEN: the token is empty; unset it for a server run with --no-auth"));
  expect(() => parseExecArgs(["--token", "", "true"], { BUNKER_TOKEN: "set" })).toThrow(new UsageError("--token: the token is empty"));
});

test("--reconnect-timeout-ms takes 0 (no reconnect) up to an hour", () => {
  expect(parseExecArgs(["--reconnect-timeout-ms", "0", "true"], {})).toMatchObject({ reconnectTimeoutMs: 0, argv: ["true"] });
  expect(parseExecArgs(["--reconnect-timeout-ms", "1500", "true"], {})).toMatchObject({ reconnectTimeoutMs: 1500 });
  expect(() => parseExecArgs(["--reconnect-timeout-ms", "3600001", "true"], {})).toThrow(new UsageError('--reconnect-timeout-ms: "3600001" must be between 0 and 3600000'));
});

test("-t, -i, --no-stdin, -e, --cwd, --name and --timeout-ms", () => {
  expect(parseExecArgs(["-t", "-e", "A=1", "-e", "B=", "--cwd", "src", "--name", "dev", "--timeout-ms", "500", "--", "make"], {})).toMatchObject({
    tty: "auto",
    env: { A: "1", B: "" },
    cwd: "src",
    name: "dev",
    timeoutMs: 500,
    argv: ["make"],
  });
  expect(parseExecArgs(["-i", "cat"], {})).toMatchObject({ stdin: "always" });
  expect(parseExecArgs(["--no-stdin", "cat"], {})).toMatchObject({ stdin: "never" });
});

test("-tt (or -t -t, --tty --tty, -tti) insists on a terminal", () => {
  for (const flags of [["-tt"], ["-t", "-t"], ["--tty", "--tty"], ["-tti"], ["-ttt"]]) expect(parseExecArgs([...flags, "cat"], {})).toMatchObject({ tty: "always", argv: ["cat"] });
});

test("bunker shell always asks for a terminal, -tt insists, and it may run without a command", () => {
  expect(parseExecArgs([], {}, { shell: true })).toMatchObject({ tty: "auto", argv: [] });
  expect(parseExecArgs(["-t"], {}, { shell: true })).toMatchObject({ tty: "auto", argv: [] });
  expect(parseExecArgs(["-tt"], {}, { shell: true })).toMatchObject({ tty: "always", argv: [] });
});

test("-e NAME copies the variable from here, and skips it when unset", () => {
  expect(parseEnvAssignments(["HOME", "NOPE", "X=a=b"], { HOME: "/home/me" })).toEqual({ HOME: "/home/me", X: "a=b" });
});

test("URLs: http(s) become ws(s), a bare host gets /ws", () => {
  expect(normalizeUrl("http://127.0.0.1:7681/", "--url")).toBe("ws://127.0.0.1:7681/ws");
  expect(normalizeUrl("https://box.example", "--url")).toBe("wss://box.example/ws");
  expect(normalizeUrl("ws://h:1/custom/ws", "--url")).toBe("ws://h:1/custom/ws");
});

test("misuse is a UsageError of one line that quotes the value", () => {
  expect(() => parseExecArgs([], {})).toThrow(new UsageError("exec needs a command: bunker exec [flags] -- command [args...]"));
  expect(() => parseExecArgs(["-e", "=x", "true"], {})).toThrow(new UsageError('-e: "=x" is not NAME=VALUE'));
  expect(() => parseExecArgs(["--url", "ftp://h", "true"], {})).toThrow(new UsageError('--url: "ftp://h" is not a ws:// or wss:// URL'));
  expect(() => parseExecArgs(["true"], { BUNKER_URL: "nope" })).toThrow(new UsageError(`BUNKER_URL: "nope" is not a URL such as ${DEFAULT_URL}`));
  expect(() => parseExecArgs(["--timeout-ms", "soon", "true"], {})).toThrow(new UsageError('--timeout-ms: "soon" is not a whole number between 0 and 2147483647'));
  expect(() => parseExecArgs(["--timeout-ms", "-1", "true"], {})).toThrow(new UsageError('--timeout-ms: "-1" must be between 0 and 2147483647'));
  expect(() => parseExecArgs(["--name", "a b", "true"], {})).toThrow(new UsageError('--name: "a b" is not 1 to 64 of A-Z a-z 0-9 . _ -'));
  expect(() => parseExecArgs(["-i", "--no-stdin", "true"], {})).toThrow(UsageError);
  expect(() => parseExecArgs(["--bogus", "true"], {})).toThrow(UsageError);
});

test("an argument or -e value that was not UTF-8 (U+FFFD by the time it is read) is refused, not sent as another name", () => {
  expect(() => parseExecArgs(["--", "rm", "caf\uFFFD"], {})).toThrow(
    new UsageError('argument 2 ("caf\uFFFD") is not valid UTF-8, or holds U+FFFD: bunker sends text; reach such a name from inside, with a glob in sh -c'),
  );
  expect(() => parseExecArgs(["-e", "X=\uFFFD", "--", "true"], {})).toThrow(new UsageError('-e: "X" is not valid UTF-8, or holds U+FFFD: bunker sends text'));
  expect(() => parseExecArgs(["-e", "LOCAL", "--", "true"], { LOCAL: "a\uFFFD" })).toThrow(UsageError);
  expect(parseExecArgs(["--", "echo", "café"], {})).toMatchObject({ argv: ["echo", "café"] });
});
