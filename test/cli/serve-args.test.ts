import { expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { parseServeArgs } from "../../src/cli/serve-args.ts";
import { UsageError } from "../../src/cli/usage-error.ts";
import { selfSignedCertificate } from "../helpers/self-signed.ts";

const asRoot = process.geteuid?.() === 0;

test("defaults: 127.0.0.1:7681, a generated token, auto sandbox, no network, never root inside", () => {
  expect(parseServeArgs([], {})).toMatchObject({
    host: "127.0.0.1",
    port: 7681,
    token: "generate",
    sandbox: "auto",
    allowNetwork: false,
    // root's home is 0700: the uid commands run as could not reach workspaces there.
    workspaceRoot: asRoot ? "/var/lib/bunker/workspaces" : join(homedir(), ".bunker", "workspaces"),
    runAs: asRoot ? { uid: 65534, gid: 65534 } : undefined,
    rlimits: { cpuSeconds: 600, addressSpaceBytes: 8 * 1024 ** 3, fileSizeBytes: 2 * 1024 ** 3, openFiles: 4096, processes: 1024 },
    tmpSizeBytes: 512 * 1024 * 1024,
    limits: { maxExecsPerSession: 16, maxExecs: 64, maxFrameBytes: 1048576, idleTimeoutSeconds: 45 },
  });
});

test("--idle-timeout takes whole seconds from 8s to 960s (Bun's range)", () => {
  expect(parseServeArgs(["--idle-timeout", "2m"], {})).toMatchObject({ limits: { idleTimeoutSeconds: 120 } });
  expect(parseServeArgs([], { BUNKER_IDLE_TIMEOUT: "8" })).toMatchObject({ limits: { idleTimeoutSeconds: 8 } });
  expect(() => parseServeArgs(["--idle-timeout", "7s"], {})).toThrow(new UsageError('--idle-timeout: "7s" is not from 8s to 960s'));
  expect(() => parseServeArgs(["--idle-timeout", "17m"], {})).toThrow(new UsageError('--idle-timeout: "17m" is not from 8s to 960s'));
  expect(() => parseServeArgs(["--idle-timeout", "8500ms"], {})).toThrow(new UsageError('--idle-timeout: "8500ms" is not a whole number of seconds'));
});

test("--run-as takes UID or UID:GID, and a server that is not root cannot switch", () => {
  if (asRoot) {
    expect(parseServeArgs(["--run-as", "1234:5678"], {})).toMatchObject({ runAs: { uid: 1234, gid: 5678 } });
    expect(parseServeArgs(["--run-as", "4321"], {})).toMatchObject({ runAs: { uid: 4321, gid: 4321 } });
  } else {
    expect(() => parseServeArgs(["--run-as", "1234"], {})).toThrow(UsageError);
  }
  expect(() => parseServeArgs(["--run-as", "nobody"], {})).toThrow('--run-as: "nobody" is not UID or UID:GID');
});

test("flags win over the environment", () => {
  expect(parseServeArgs(["--token", "flag-token-123456789"], { BUNKER_TOKEN: "env-token-1234567890" })).toMatchObject({ token: "flag-token-123456789" });
  expect(parseServeArgs([], { BUNKER_TOKEN: "env-token-1234567890" })).toMatchObject({ token: "env-token-1234567890" });
  expect(parseServeArgs(["--workspace-root", "/srv/ws"], { BUNKER_WORKSPACE_ROOT: "/env/ws" })).toMatchObject({ workspaceRoot: "/srv/ws" });
});

test("a bad value is a UsageError that quotes it", () => {
  expect(() => parseServeArgs(["--port", "http"], {})).toThrow(new UsageError('--port: "http" is not a whole number between 0 and 65535'));
  expect(() => parseServeArgs(["--port", "70000"], {})).toThrow(new UsageError('--port: "70000" must be between 0 and 65535'));
  expect(() => parseServeArgs(["--sandbox", "docker"], {})).toThrow(new UsageError('--sandbox: "docker" is not one of auto, bwrap, seatbelt, none'));
  expect(() => parseServeArgs(["--bogus"], {})).toThrow(UsageError);
});

test("a bad flag value exits 2 with one line", async () => {
  const proc = Bun.spawn([process.execPath, "src/main.ts", "serve", "--port", "banana"], { stderr: "pipe", stdout: "pipe" });
  expect(await proc.exited).toBe(2);
  expect(await new Response(proc.stderr).text()).toBe('bunker: --port: "banana" is not a whole number between 0 and 65535\n');
});

test("bunker serve with a negative, too large or non-numeric --port exits 2 with one line that quotes it and gives the range", async () => {
  const run = async (...args: string[]) => {
    const proc = Bun.spawn([process.execPath, "src/main.ts", "serve", ...args], { stderr: "pipe", stdout: "pipe" });
    return { code: await proc.exited, stderr: await new Response(proc.stderr).text() };
  };
  expect(await run("--port", "-1")).toEqual({ code: 2, stderr: 'bunker: --port: "-1" must be between 0 and 65535\n' });
  expect(await run("--port=-1")).toEqual({ code: 2, stderr: 'bunker: --port: "-1" must be between 0 and 65535\n' });
  expect(await run("--port", "70000")).toEqual({ code: 2, stderr: 'bunker: --port: "70000" must be between 0 and 65535\n' });
  expect(await run("--port", "abc")).toEqual({ code: 2, stderr: 'bunker: --port: "abc" is not a whole number between 0 and 65535\n' });
});

test("a value that starts with a dash belongs to its flag; one of the command's own flags in its place is a forgotten value", () => {
  expect(() => parseServeArgs(["--max-execs", "-3"], {})).toThrow(new UsageError('--max-execs: "-3" must be between 1 and 1000000'));
  expect(() => parseServeArgs([], { BUNKER_PORT: "-1" })).toThrow(new UsageError('BUNKER_PORT: "-1" must be between 0 and 65535'));
  // A generated token is base64url: one in 64 starts with "-".
  expect(parseServeArgs(["--token", "-abcdefghijklmnopqrstu"], {})).toMatchObject({ token: "-abcdefghijklmnopqrstu" });
  expect(() => parseServeArgs(["--host", "--port", "80"], {})).toThrow(new UsageError('--host needs a value, but "--port" follows it; write --host=--port if that is the value'));
  expect(() => parseServeArgs(["--port", "-h"], {})).toThrow(new UsageError('--port needs a value, but "-h" follows it; write --port=-h if that is the value'));
});

test("--host [::1], as URLs write it, binds the bare address", () => {
  expect(parseServeArgs(["--host", "[::1]"], {})).toMatchObject({ host: "::1" });
  expect(parseServeArgs(["--host", "::1"], {})).toMatchObject({ host: "::1" });
});

test("--deny-read takes existing absolute paths as real paths, and always adds the config file and the TLS key", () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "bunker-deny-read-")));
  try {
    const { certPem, keyPem } = selfSignedCertificate();
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    const config = join(dir, "config.json");
    writeFileSync(cert, certPem);
    writeFileSync(key, keyPem, { mode: 0o600 });
    writeFileSync(config, "{}\n", { mode: 0o600 });
    mkdirSync(join(dir, "secrets"));
    symlinkSync(join(dir, "secrets"), join(dir, "link"));
    expect(parseServeArgs(["--deny-read", join(dir, "link"), "--tls-cert", cert, "--tls-key", key, "--config", config], {})).toMatchObject({
      denyRead: [
        { path: join(dir, "secrets"), directory: true },
        { path: key, directory: false },
        { path: config, directory: false },
      ],
    });
    // Given twice (the key denied by hand too), hidden once.
    expect(parseServeArgs(["--deny-read", key, "--tls-cert", cert, "--tls-key", key], {})).toMatchObject({ denyRead: [{ path: key, directory: false }] });
    expect(parseServeArgs([], {})).toMatchObject({ denyRead: [] });
    expect(() => parseServeArgs(["--deny-read", "etc/shadow"], {})).toThrow(new UsageError('--deny-read: "etc/shadow" must be an absolute path'));
    expect(() => parseServeArgs(["--deny-read", join(dir, "missing")], {})).toThrow(new UsageError(`--deny-read: ${JSON.stringify(join(dir, "missing"))} does not exist`));
    expect(() => parseServeArgs([], { BUNKER_DENY_READ: "/" })).toThrow(new UsageError('BUNKER_DENY_READ: "/" is the whole filesystem'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bunker serve refuses a --deny-read directory that holds the workspace root: commands could reach no workspace", async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "bunker-deny-root-")));
  // Passable, as a workspace root's parents must be for the uid commands run as.
  chmodSync(dir, 0o711);
  try {
    const root = join(dir, "workspaces");
    const proc = Bun.spawn([process.execPath, "src/main.ts", "serve", "--port", "0", "--sandbox", "none", "--deny-read", dir, "--workspace-root", root], { stderr: "pipe", stdout: "pipe" });
    expect({ code: await proc.exited, stderr: await new Response(proc.stderr).text() }).toEqual({
      code: 2,
      stderr: `bunker: --deny-read: ${JSON.stringify(dir)} holds the workspace root ${root}: commands could reach no workspace\n`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
