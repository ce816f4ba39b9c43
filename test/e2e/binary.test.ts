import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import packageJson from "../../package.json" with { type: "json" };
import { resolveBuildCommit } from "../../build/build-commit.ts";
import { connect } from "../helpers/client.ts";
import { noBwrap } from "../helpers/sandbox-required.ts";
import { BUN, REPO_ROOT, startServer, type StartServerOptions, type TestServer } from "../helpers/server-process.ts";
import { EXPECTED_PAGE_HEADERS, pageHeadersOf } from "../helpers/page-headers.ts";
import { launchChromium, noBrowserReason } from "../web/browser.ts";
import { createPolicyViolations, watchPolicyViolations } from "../web/policy-violations.ts";
import { PROMPT, typeCommand, waitForLines } from "../web/terminal-screen.ts";

/** An empty directory holding only the copied binary: proves it needs nothing from the source tree. */
let dir = "";
let binary = "";
let commit = "";

beforeAll(async () => {
  await execa(BUN, ["build.ts"], { cwd: REPO_ROOT, timeout: 60_000 });
  commit = await resolveBuildCommit(REPO_ROOT);
  dir = mkdtempSync(join(tmpdir(), "bunker-e2e-"));
  binary = join(dir, "bunker");
  copyFileSync(join(REPO_ROOT, "dist", "bunker"), binary);
}, 90_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the copied binary with the temp directory as cwd; a failed run is a result, not a throw. */
function runBinary(args: string[]) {
  return execa(binary, args, { cwd: dir, reject: false, timeout: 30_000 });
}

/**
 * The environment the server runs in: the system's directories on PATH and nothing of the
 * checkout, so that a binary needing bun, node or node_modules fails here.
 */
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * startServer() has no cwd option and spawns in the test runner's cwd (the repo root, with its
 * package.json); chdir around the spawn so the server, too, runs from the temp dir.
 */
async function startServerInDir(options: StartServerOptions): Promise<TestServer> {
  const previous = process.cwd();
  process.chdir(dir);
  try {
    return await startServer({ ...options, env: { PATH: SYSTEM_PATH, HOME: dir, ...options.env } });
  } finally {
    process.chdir(previous);
  }
}

describe("the compiled binary, copied alone into an empty directory", () => {
  test("prints its version and the commit it was built from", async () => {
    const result = await runBinary(["--version"]);
    expect({ exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }).toEqual({
      exitCode: 0,
      stdout: `bunker ${packageJson.version} (${commit})`,
      stderr: "",
    });
  });

  test("prints its help and exits 0", async () => {
    const result = await runBinary(["--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toStartWith(`bunker ${packageJson.version}: `);
    expect(result.stdout).toContain("bunker serve");
  });

  test("rejects a bad --port with one line quoting the value and exit code 2", async () => {
    const result = await runBinary(["serve", "--port", "not-a-port"]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^bunker: .*"not-a-port"/);
  });

  test("ignores a bunfig.toml in its working directory, whose preload would run any code", async () => {
    const project = join(dir, "project");
    mkdirSync(project);
    writeFileSync(join(project, "preload.ts"), 'console.log("preloaded");\n');
    writeFileSync(join(project, "bunfig.toml"), 'preload = ["./preload.ts"]\n');
    const result = await execa(binary, ["--version"], { cwd: project, reject: false, timeout: 30_000 });
    expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({ exitCode: 0, stdout: `bunker ${packageJson.version} (${commit})` });
  });

  test.skipIf(noBwrap)("serves a session that runs echo hi inside bwrap", async () => {
    await using server = await startServerInDir({ command: [binary] });
    await using client = await connect(server);
    expect(client.hello.sandbox.backend).toBe("bwrap");
    const run = await client.exec({ id: "echo", argv: ["echo", "hi"] });
    expect(run.errors).toEqual([]);
    expect(run.stdout).toBe("hi\n");
    expect(run.stderr).toBe("");
    expect(run.exit).toEqual({ type: "exit", id: "echo", code: 0, signal: null, reason: "exited", durationMs: expect.any(Number) });
  });

  test("serves the built-in terminal page and its assets from memory", async () => {
    await using server = await startServerInDir({ command: [binary] });
    const base = `http://127.0.0.1:${server.port}`;
    const page = await fetch(`${base}/`);
    expect({ status: page.status, headers: pageHeadersOf(page) }).toEqual({ status: 200, headers: EXPECTED_PAGE_HEADERS });
    const html = await page.text();
    expect(html).toMatch(/<meta name="referrer" content="no-referrer" ?\/?>/);
    // Linked relatively, so that a proxy may serve the page under a path (page-routes.ts).
    const assets = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    expect(assets.filter((asset) => !asset.startsWith("./"))).toEqual([]);
    for (const asset of assets) {
      const response = await fetch(new URL(asset, `${base}/`));
      expect({ asset, status: response.status, immutable: response.headers.get("cache-control")?.includes("immutable"), headers: pageHeadersOf(response) }).toEqual({
        asset,
        status: 200,
        immutable: true,
        headers: EXPECTED_PAGE_HEADERS,
      });
      // A second load of the same version is answered from the browser's copy, a tag quoted as
      // HTTP writes it and compared as a list, weakly, or `*`.
      const etag = response.headers.get("etag")!;
      expect(etag).toMatch(/^"[^"]+"$/);
      for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
        expect({ ifNoneMatch, status: (await fetch(new URL(asset, `${base}/`), { headers: { "if-none-match": ifNoneMatch } })).status }).toEqual({ ifNoneMatch, status: 304 });
      }
      expect((await fetch(new URL(asset, `${base}/`), { method: "POST" })).status).toBe(405);
    }
  });

  test.skipIf(noBrowserReason !== undefined)("its terminal page opens in Chromium and runs a command in a shell, breaking no rule of its policy", async () => {
    await using server = await startServerInDir({ command: [binary] });
    const browser = await launchChromium();
    try {
      const context = await browser.newContext();
      const violations = createPolicyViolations();
      await watchPolicyViolations(context, violations);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(String(error)));
      expect((await page.goto(`http://127.0.0.1:${server.port}/#token=${server.token}`))?.status()).toBe(200);
      await waitForLines(page, [PROMPT]);
      await typeCommand(page, "echo from-the-page-$((6*7))");
      await waitForLines(page, ["^from-the-page-42$", PROMPT]);
      expect({ errors, violations: violations.lines }).toEqual({ errors: [], violations: [] });
    } finally {
      await browser.close();
    }
  });

  // The binary answered HEAD with `Content-Length: 0` where GET sends thousands of bytes (a HEAD's
  // length must be the GET body's, RFC 9110 9.3.2); run from source, Bun's own routes got it right.
  test("answers HEAD for the page and each of its files with the length GET sends", async () => {
    await using server = await startServerInDir({ command: [binary] });
    const base = `http://127.0.0.1:${server.port}/`;
    const html = await (await fetch(base)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\.\/[^"]+\.(?:js|css))"/g)].map((match) => match[1]!);
    for (const path of ["./", ...assets]) {
      const bytes = (await (await fetch(new URL(path, base))).arrayBuffer()).byteLength;
      const head = await fetch(new URL(path, base), { method: "HEAD" });
      expect({ path, status: head.status, length: head.headers.get("content-length") }).toEqual({ path, status: 200, length: String(bytes) });
    }
  });
});
