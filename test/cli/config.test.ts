import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadServeConfig, parseServeArgs, type ServeSettings } from "../../src/cli/serve-args.ts";
import { UsageError } from "../../src/cli/usage-error.ts";
import { defaultServeConfig } from "../../src/config/serve-settings.ts";
import { envOf, flagOf, SERVE_FIELD_NAMES, type ServeConfig } from "../../src/config/serve-fields.ts";
import { renderConfigCommand } from "../../src/cli/config.ts";
import { selfSignedCertificate } from "../helpers/self-signed.ts";

const dir = mkdtempSync(join(tmpdir(), "bunker-config-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** Writes a config file (mode 0600 unless told) and returns its path. */
function configFile(content: unknown, mode = 0o600): string {
  const path = join(dir, `bunker-${files++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  chmodSync(path, mode);
  return path;
}

function settings(args: string[], env: Record<string, string> = {}): ServeSettings {
  const result = parseServeArgs(args, env);
  if (result === "help") throw new Error("help");
  return result;
}

function usageError(args: string[], env: Record<string, string> = {}): string {
  try {
    parseServeArgs(args, env);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error("no UsageError");
}

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

test("the config type is inferred from the schema", () => {
  const port: Equals<ServeConfig["port"], number | undefined> = true;
  const sandbox: Equals<ServeConfig["sandbox"], "auto" | "bwrap" | "seatbelt" | "none" | undefined> = true;
  const origins: Equals<ServeConfig["allowOrigin"], string[] | undefined> = true;
  const logFormat: Equals<ServeConfig["logFormat"], "json" | "pretty" | undefined> = true;
  expect([port, sandbox, origins, logFormat]).toEqual([true, true, true, true]);
});

test("each setting's flag and variable are its key in kebab and upper snake case", () => {
  expect([flagOf("maxConnectionsPerAddress"), envOf("maxConnectionsPerAddress"), envOf("token"), envOf("hostId"), flagOf("noAuth")]).toEqual([
    "--max-connections-per-address",
    "BUNKER_MAX_CONNECTIONS_PER_ADDRESS",
    "BUNKER_TOKEN",
    "BUNKER_HOST_ID",
    "--no-auth",
  ]);
  expect(new Set(SERVE_FIELD_NAMES.map(flagOf)).size).toBe(SERVE_FIELD_NAMES.length);
});

describe("layers", () => {
  test("flags win over the environment, which wins over the file, which wins over the defaults", () => {
    const file = configFile({ port: 1001, maxExecs: 11, maxSessions: 12, hostId: "from-file" });
    const env = { BUNKER_CONFIG: file, BUNKER_PORT: "2002", BUNKER_MAX_EXECS: "22" };
    const result = settings(["--port", "3003"], env);
    expect({ port: result.port, maxExecs: result.limits.maxExecs, maxSessions: result.limits.maxSessions, hostId: result.hostId, maxExecsPerSession: result.limits.maxExecsPerSession }).toEqual({
      port: 3003,
      maxExecs: 22,
      maxSessions: 12,
      hostId: "from-file",
      maxExecsPerSession: 16,
    });
    expect(settings(["--config", file], { BUNKER_CONFIG: "/nonexistent.json" }).port).toBe(1001);
  });

  test("environment variables: whole numbers, booleans as words, lists comma-separated, empty means unset", () => {
    const result = settings([], {
      BUNKER_MAX_MESSAGES_PER_SECOND: "50",
      BUNKER_ALLOW_NETWORK: "yes",
      BUNKER_METRICS_PUBLIC: "0",
      BUNKER_ALLOW_ORIGIN: "https://a.example, https://b.example,",
      BUNKER_HOST_ID: "",
      BUNKER_LOG_LEVEL: "debug",
    });
    expect({ rate: result.limits.maxMessagesPerSecond, network: result.allowNetwork, metrics: result.metricsPublic, origins: result.allowedOrigins, level: result.logLevel }).toEqual({
      rate: 50,
      network: true,
      metrics: false,
      origins: ["https://a.example", "https://b.example"],
      level: "debug",
    });
  });

  test("a setting given in the file and as a flag: the flag's value, and the flag named in its errors", () => {
    const file = configFile({ allowRead: ["/nonexistent-from-file"] });
    expect(usageError(["--config", file])).toBe(`${file}: allowRead: "/nonexistent-from-file" does not exist`);
    expect(usageError(["--config", file, "--allow-read", "/nonexistent-from-flag"])).toBe('--allow-read: "/nonexistent-from-flag" does not exist');
  });

  test("--no-auth and a token: the higher layer decides; in one layer they contradict each other", () => {
    const token = "t".repeat(20);
    expect(settings(["--no-auth"], { BUNKER_TOKEN: token }).token).toBeUndefined();
    expect(settings([], { BUNKER_TOKEN: token, BUNKER_CONFIG: configFile({ noAuth: true }) }).token).toBe(token);
    expect(usageError(["--no-auth", "--token", token])).toBe("--token and --no-auth contradict each other");
    expect(usageError([], { BUNKER_NO_AUTH: "1", BUNKER_TOKEN: token })).toBe("BUNKER_TOKEN and BUNKER_NO_AUTH contradict each other");
  });

  test("relative paths in a file are taken from the file's directory", () => {
    const file = configFile({ workspaceRoot: "workspaces" });
    expect(settings(["--config", file]).workspaceRoot).toBe(join(dir, "workspaces"));
  });
});

describe("a bad setting is one line that names it where it was given", () => {
  const cases: [string, () => string, string][] = [
    ["a string for a number in a file", () => configFile({ maxExecs: "ten" }), 'maxExecs: "ten" is not a whole number between 1 and 1000000'],
    ["a number out of range in a file", () => configFile({ port: 70000 }), "port: 70000 must be between 0 and 65535"],
    ["a fraction in a file", () => configFile({ maxSessions: 1.5 }), "maxSessions: 1.5 is not a whole number between 1 and 10000000"],
    ["a bad word in a file", () => configFile({ logFormat: "xml" }), 'logFormat: "xml" is not one of json, pretty'],
    ["a bad list item in a file", () => configFile({ allowOrigin: ["https://a.example", 5] }), "allowOrigin[1]: 5 is not a string"],
    ["a bad duration in a file", () => configFile({ detachTtl: "ten minutes" }), 'detachTtl: "ten minutes" is not a duration such as 30s, 10m or 2h'],
    ["a boolean given as a string in a file", () => configFile({ allowNetwork: "true" }), 'allowNetwork: "true" is not true or false'],
    ["a misspelt key", () => configFile({ maxExec: 3 }), '"maxExec" is not a setting of bunker serve (did you mean "maxExecs"?)'],
    ["a flag's spelling as a key", () => configFile({ "max-sessions": 3 }), '"max-sessions" is not a setting of bunker serve (did you mean "maxSessions"?)'],
    ["an unrelated key", () => configFile({ colour: "blue" }), '"colour" is not a setting of bunker serve'],
    ["a JSON array", () => configFile([1]), "must hold one JSON object of settings"],
  ];
  for (const [name, make, expected] of cases) {
    test(name, () => {
      const file = make();
      expect(usageError(["--config", file])).toBe(`${file}: ${expected}`);
    });
  }

  test("a file that is not JSON, and one that cannot be read", () => {
    const file = configFile("{ port: 1 }");
    expect(usageError(["--config", file])).toStartWith(`${file}: not valid JSON: `);
    expect(usageError(["--config", join(dir, "missing.json")])).toBe(`--config: ${JSON.stringify(join(dir, "missing.json"))} cannot be read: ENOENT`);
  });

  test("a JSON error never quotes the text it stopped at: an unquoted token would be printed", () => {
    const file = configFile('{"token": supersecretvalue1234567890}');
    const message = usageError(["--config", file]);
    expect(message).toStartWith(`${file}: not valid JSON: `);
    expect(message).not.toContain("supersecretvalue");
  });

  test("environment variables are named as such", () => {
    expect(usageError([], { BUNKER_MAX_EXECS: "many" })).toBe('BUNKER_MAX_EXECS: "many" is not a whole number between 1 and 1000000');
    expect(usageError([], { BUNKER_MAX_EXECS: "0" })).toBe('BUNKER_MAX_EXECS: "0" must be between 1 and 1000000');
    expect(usageError([], { BUNKER_ALLOW_NETWORK: "maybe" })).toBe('BUNKER_ALLOW_NETWORK: "maybe" is not true or false (1, 0, true, false, yes, no, on, off)');
    expect(usageError([], { BUNKER_SANDBOX: "docker" })).toBe('BUNKER_SANDBOX: "docker" is not one of auto, bwrap, seatbelt, none');
  });

  test("a token is never quoted, only its length", () => {
    expect(usageError(["--token", "short-secret"])).toBe("--token: a value of 12 characters is too short to guess-proof; use at least 16");
    expect(usageError([], { BUNKER_CONFIG: configFile({ token: "tiny" }) })).toEndWith(": token: a value of 4 characters is too short to guess-proof; use at least 16");
  });

  test("a token with whitespace or a control character is refused: no client could present it", () => {
    const problem = "holds whitespace or a control character (a trailing newline from a file, say), which no client can present; remove it";
    expect(usageError([], { BUNKER_TOKEN: "a-token-read-from-a-file\n" })).toBe(`BUNKER_TOKEN: a value of 25 characters ${problem}`);
    expect(usageError(["--token", "  padded-token-value  "])).toBe(`--token: a value of 22 characters ${problem}`);
    expect(usageError(["--token", "tab\tinside-the-token"])).toBe(`--token: a value of 20 characters ${problem}`);
  });

  test("a token a browser cannot send as a subprotocol starts the server with a warning, which quotes none of it", () => {
    expect(settings([], { BUNKER_TOKEN: "kq3/Zp+Rv8WmT2xYb9Lc=" }).warnings).toEqual([
      "WARNING: BUNKER_TOKEN: the token holds characters a browser cannot send in a WebSocket subprotocol (anything but letters, digits and !#$%&'*+-.^_`|~), so the terminal page cannot log in with it (clients sending \"Authorization: Bearer\" can); letters, digits and - _ . ~ work everywhere (openssl rand -hex 32)",
    ]);
    expect(settings(["--token", "Az09-_.~!#$%&'*+^`|"]).warnings).toEqual([]);
  });
});

test("a BUNKER_ variable that names no setting is a startup warning with the setting it most likely meant", () => {
  expect(settings([], { BUNKER_MAX_EXEC: "5", BUNKER_URL: "ws://h/ws", BUNKER_ZZZZZZZZZZZZ: "1" }).warnings).toEqual([
    "BUNKER_MAX_EXEC is not a setting of bunker serve (did you mean BUNKER_MAX_EXECS?); it is ignored",
    "BUNKER_ZZZZZZZZZZZZ is not a setting of bunker serve; it is ignored",
  ]);
});

test("a config file that holds the token and that others can read is a startup warning", () => {
  const file = configFile({ token: "a-token-from-a-readable-file" }, 0o644);
  expect(settings(["--config", file]).warnings).toEqual([`${file} holds the token and others on this machine can read it; chmod 600 ${file}`]);
  expect(settings(["--config", configFile({ token: "a-token-from-a-private-file" })]).warnings).toEqual([]);
});

describe("binding and TLS", () => {
  test("a non-loopback address without TLS needs --insecure-bind, and then warns", () => {
    expect(usageError(["--host", "0.0.0.0"])).toBe(
      '--host: "0.0.0.0" is not a loopback address, and without TLS the token and every command\'s output cross the network in clear text; give --tls-cert and --tls-key, or --insecure-bind when TLS ends in a proxy in front',
    );
    expect(usageError([], { BUNKER_HOST: "bunker.example.com" })).toStartWith('BUNKER_HOST: "bunker.example.com" is not a loopback address');
    expect(settings(["--host", "0.0.0.0", "--insecure-bind"]).warnings).toEqual([
      "WARNING: listening on 0.0.0.0 without TLS (--insecure-bind): tokens and output cross the network in clear text unless a proxy in front ends TLS",
    ]);
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost"]) expect(settings(["--host", host]).warnings).toEqual([]);
  });

  test("--tls-cert and --tls-key go together, must be readable, and must be a certificate and its own key", () => {
    const pem = configFile("not a certificate");
    expect(usageError(["--tls-cert", pem])).toBe("--tls-cert: a certificate needs its private key too (--tls-key)");
    expect(usageError([], { BUNKER_TLS_KEY: pem })).toBe("BUNKER_TLS_KEY: a private key needs its certificate too (--tls-cert)");
    expect(usageError(["--tls-cert", pem, "--tls-key", join(dir, "missing.pem")])).toBe(`--tls-key: ${JSON.stringify(join(dir, "missing.pem"))} cannot be read: ENOENT`);
    expect(usageError(["--tls-cert", pem, "--tls-key", pem])).toBe(`--tls-cert: ${JSON.stringify(pem)} is not a PEM certificate`);
    const one = selfSignedCertificate();
    const other = selfSignedCertificate();
    const cert = configFile(one.certPem);
    const key = configFile(one.keyPem);
    const otherKey = configFile(other.keyPem);
    // What serve would only find at listen (KEY_VALUES_MISMATCH), bunker config refuses now.
    expect(usageError(["--tls-cert", cert, "--tls-key", otherKey])).toBe(`--tls-key: ${JSON.stringify(otherKey)} is not the private key of ${JSON.stringify(cert)}`);
    expect(settings(["--host", "0.0.0.0", "--tls-cert", cert, "--tls-key", key])).toMatchObject({ tls: { certPath: cert, keyPath: key }, warnings: [] });
  });
});

describe("bunker config", () => {
  const run = (args: string[], env: Record<string, string> = {}) => renderConfigCommand(args, env);

  test("prints every setting as a config file would hold it, defaults included; the token redacted, with a line on stderr", () => {
    const file = configFile({ maxExecs: 5, token: "a-token-that-stays-secret" });
    const { stdout, stderr } = run(["--config", file, "--port", "9000"], { BUNKER_LOG_FORMAT: "json" });
    expect(JSON.parse(stdout)).toEqual({ ...defaultServeConfig(process.geteuid?.() ?? -1), port: 9000, maxExecs: 5, logFormat: "json", token: "<redacted>" });
    expect(Object.keys(JSON.parse(stdout))[0]).toBe("host");
    expect(stderr).toBe(`bunker: token (from ${file}: token) is printed as <redacted>, as bunker config prints no secret; give the real one to serve: --token, BUNKER_TOKEN or "token" in the file\n`);
    expect(stdout + stderr).not.toContain("a-token-that-stays-secret");
  });

  test("serve refuses the printed placeholder as a token, unless a layer above the file gives the real one", () => {
    const printed = configFile(run([], { BUNKER_TOKEN: "a-token-from-the-environment" }).stdout);
    expect(usageError(["--config", printed])).toBe(`${printed}: token: "<redacted>" is what bunker config prints in place of the token, not a token; give the real one with --token, BUNKER_TOKEN or "token" in the file`);
    expect(settings(["--config", printed, "--token", "a-token-given-again-now"]).token).toBe("a-token-given-again-now");
  });

  test("serve --config reads the printed file back to the same settings, once the token is given again", () => {
    const token = "a-token-from-the-environment";
    const env = { BUNKER_TOKEN: token, BUNKER_MAX_SESSIONS: "7", BUNKER_ALLOW_ORIGIN: "https://a.example" };
    // A relative path given as a flag is taken from the working directory; in the file, from the file's.
    const args = ["--detach-ttl", "30m", "--protect", "secrets", "--workspace-root", "relative/workspaces"];
    const printed = configFile(run(args, env).stdout);
    const { warnings: _original, denyRead: none, ...original } = settings(args, env);
    const { warnings: _fromFile, denyRead, ...fromFile } = settings(["--config", printed], { BUNKER_TOKEN: token });
    expect(fromFile).toEqual(original);
    expect(none).toEqual([]);
    // The one difference: a server reading a file hides it from its commands.
    expect(denyRead).toEqual([{ path: realpathSync(printed), directory: false }]);
    expect(original.token).toBe(token);
  });

  test("without a token the printed file starts a server that generates one; it never says <redacted>", () => {
    const printed = configFile(run([]).stdout);
    expect(settings(["--config", printed]).token).toBe("generate");
    expect(readFileSync(printed, "utf8")).not.toContain("redacted");
  });

  test("a token that overrides noAuth from a lower layer prints noAuth false: the file without the token never means no auth", () => {
    const file = configFile({ noAuth: true });
    const { stdout, stderr } = run(["--config", file], { BUNKER_TOKEN: "a-token-from-the-environment" });
    expect(JSON.parse(stdout).noAuth).toBe(false);
    expect(stderr).toStartWith("bunker: token (from BUNKER_TOKEN) is printed as <redacted>");
    const noAuth = run(["--config", configFile({ token: "a-token-from-the-file-0" })], { BUNKER_NO_AUTH: "1" });
    expect([JSON.parse(noAuth.stdout).noAuth, JSON.parse(noAuth.stdout).token, noAuth.stderr]).toEqual([true, undefined, ""]);
  });

  test("--sources says where each setting came from, the token redacted", () => {
    const file = configFile({ maxExecs: 5, token: "a-token-that-stays-secret" });
    const { stdout, stderr } = run(["--config", file, "--port", "9000", "--sources"], { BUNKER_MAX_SESSIONS: "7" });
    const lines = stdout.split("\n");
    const row = (name: string) => lines.find((line) => line.startsWith(`${name} `))?.split(/\s{2,}/);
    expect([row("port"), row("token"), row("maxExecs"), row("maxSessions"), row("host"), row("maxOutputBytes")]).toEqual([
      ["port", "9000", "--port"],
      ["token", "<redacted>", `${file}: token`],
      ["maxExecs", "5", `${file}: maxExecs`],
      ["maxSessions", "7", "BUNKER_MAX_SESSIONS"],
      ["host", '"127.0.0.1"', "default"],
      ["maxOutputBytes", "(none)", "default"],
    ]);
    expect(stderr).toBe("");
    expect(stdout).not.toContain("a-token-that-stays-secret");
  });

  test("from the binary's entry: a bad setting exits 2 with one line, as serve would", async () => {
    const file = configFile({ maxExecs: 0 });
    const proc = Bun.spawn([process.execPath, "src/main.ts", "config", "--config", file], { stderr: "pipe", stdout: "pipe", env: { PATH: process.env["PATH"] ?? "" } });
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toBe(`bunker: ${file}: maxExecs: 0 must be between 1 and 1000000\n`);
    const serve = Bun.spawn([process.execPath, "src/main.ts", "serve", "--config", file], { stderr: "pipe", env: { PATH: process.env["PATH"] ?? "" } });
    expect(await serve.exited).toBe(2);
    expect(await new Response(serve.stderr).text()).toBe(`bunker: ${file}: maxExecs: 0 must be between 1 and 1000000\n`);
  });

  test("loadServeConfig keeps the flags that are not settings for its caller", () => {
    const loaded = loadServeConfig(["--sources"], {}, { sources: { type: "boolean" } });
    expect(loaded === "help" ? loaded : loaded.flags["sources"]).toBe(true);
  });
});

test("docs/OPERATIONS.md lists every setting with its flag and variable", async () => {
  const doc = await Bun.file(join(import.meta.dir, "..", "..", "docs", "OPERATIONS.md")).text();
  const missing = SERVE_FIELD_NAMES.filter((name) => !doc.includes(`| \`${name}\` | \`${flagOf(name)}\` | \`${envOf(name)}\` |`));
  expect(missing).toEqual([]);
});
