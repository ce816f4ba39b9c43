// The client library as a Node 20 project gets it: `npm pack` (which runs `prepare`, as an install
// from git or from a folder does), `npm install` of the tarball into a plain Node project, then
// `import { connect } from "bunker/client"` under node itself against a real server, and the
// package's types under TypeScript's Node resolution.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT, startServer } from "../helpers/server-process.ts";

const server = await startServer();
const work = mkdtempSync(join(tmpdir(), "bunker-node-package-"));
const consumer = join(work, "consumer");
const installed = join(consumer, "node_modules", "bunker");
afterAll(async () => {
  await server[Symbol.asyncDispose]();
  rmSync(work, { recursive: true, force: true });
});

/** npm and node with a plain environment: none of `npm test`'s npm_* variables, nothing of Bun's. */
const plainEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: process.env["HOME"] ?? "/root" };

async function run(command: string[], cwd: string, env: Record<string, string> = {}) {
  const proc = Bun.spawn(command, { cwd, env: { ...plainEnv, ...env }, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

/** Fails with what the command printed, so that a broken install says why. */
async function runOk(command: string[], cwd: string, env: Record<string, string> = {}) {
  const result = await run(command, cwd, env);
  if (result.code !== 0) throw new Error(`${command.join(" ")} exited ${result.code}:\n${result.stdout}${result.stderr}`);
  return result;
}

beforeAll(async () => {
  await runOk(["npm", "pack", "--pack-destination", work], REPO_ROOT);
  const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
  if (!tarball) throw new Error(`npm pack left no tarball in ${work}`);
  mkdirSync(consumer);
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  // @types/node as a Node project has it, at the version already in the npm cache.
  const typesNode = JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", "@types", "node", "package.json"), "utf8")).version;
  await runOk(["npm", "install", "--prefer-offline", "--no-audit", "--no-fund", join(work, tarball), `@types/node@${typesNode}`], consumer);
}, 180_000);

describe("bunker/client in a plain Node project", () => {
  test("the package holds the built Node entry, its types, and the client's and protocol's sources; nothing of the server", () => {
    expect(readdirSync(installed).sort()).toEqual(["README.md", "dist", "package.json", "src"]);
    expect(readdirSync(join(installed, "src")).sort()).toEqual(["client", "protocol"]);
    expect(readdirSync(join(installed, "dist", "client")).sort()).toEqual(["node.mjs", "package.json", "types"]);
    expect(readdirSync(join(installed, "dist", "client", "types")).sort()).toEqual(["client", "protocol"]);
  });

  test("node runs `echo hi` on the server through `import { connect } from \"bunker/client\"`", async () => {
    const script = [
      'import { connect } from "bunker/client";',
      "const session = await connect(process.env.BUNKER_URL, { token: process.env.BUNKER_TOKEN });",
      "try {",
      '  const handle = session.exec(["echo", "hi"]);',
      "  const [stdout, exit] = await Promise.all([handle.stdout.readAllText(), handle.exited]);",
      "  console.log(JSON.stringify({ runtime: process.release.name, stdout, code: exit.code }));",
      "} finally {",
      "  await session.close();",
      "}",
    ].join("\n");
    writeFileSync(join(consumer, "echo-hi.mjs"), script);
    const result = await run(["node", "echo-hi.mjs"], consumer, { BUNKER_URL: server.url, BUNKER_TOKEN: server.token! });
    expect(result).toEqual({ code: 0, stdout: `${JSON.stringify({ runtime: "node", stdout: "hi\n", code: 0 })}\n`, stderr: "" });
  });

  test("the node:test suite of the client passes against the installed package", async () => {
    copyFileSync(join(import.meta.dir, "node", "ws-client.node.mjs"), join(consumer, "ws-client.node.mjs"));
    const env = { BUNKER_CLIENT_MODULE: "bunker/client", BUNKER_URL: server.url, BUNKER_TOKEN: server.token! };
    const result = await run(["node", "--test", "--test-reporter=spec", "--test-timeout=30000", "ws-client.node.mjs"], consumer, env);
    if (result.code !== 0) console.error(result.stdout, result.stderr);
    expect(result.stdout).toContain("ℹ fail 0");
    expect(result.code).toBe(0);
  }, 60_000);

  test("the client examples of README.md and docs/CLIENT.md are JavaScript that node parses: no `await using`", async () => {
    for (const doc of ["README.md", join("docs", "CLIENT.md")]) {
      const text = readFileSync(join(REPO_ROOT, doc), "utf8");
      const example = /```ts\n(import \{ connect \} from "bunker\/client";[^]*?)```/.exec(text)?.[1];
      expect(example).toBeString();
      const file = join(consumer, `example-${doc.replace(/\W/g, "-")}.mjs`);
      writeFileSync(file, example!);
      expect(await run(["node", "--check", file], consumer)).toEqual({ code: 0, stdout: "", stderr: "" });
    }
  });

  test("TypeScript under Node resolution finds the package's types for both entries, can name every type of the file methods, and rejects a wrong option", async () => {
    const source = [
      'import { connect, type ExecExit, type Session } from "bunker/client";',
      'import { connect as connectNode } from "bunker/client/node";',
      "import type { SessionFiles, FileEntry, FileStat, FileList, WorkspaceUsage, FileWatch, FileEvent, FileDownload, DownloadReady } from \"bunker/client\";",
      "import type { ReadOptions, ListOptions, WriteOptions, MkdirOptions, MoveOptions, RemoveOptions, UploadOptions, DownloadOptions, WatchOptions } from \"bunker/client\";",
      "export async function run(url: string): Promise<number | null> {",
      '  const session: Session = await (url ? connect : connectNode)(url, { token: "t".repeat(20) });',
      '  const exit: ExecExit = await session.exec(["echo", "hi"], { timeoutMs: 1000 }).exited;',
      "  // @ts-expect-error timeoutMs is a number",
      '  session.exec("true", { timeoutMs: "soon" });',
      "  return exit.code;",
      "}",
      "// Every type of the file methods can be named, as a wrapper around them needs.",
      "export async function copy(files: SessionFiles, options: { read: ReadOptions; list: ListOptions; write: WriteOptions; mkdir: MkdirOptions; move: MoveOptions; remove: RemoveOptions; upload: UploadOptions; download: DownloadOptions; watch: WatchOptions }): Promise<FileEntry> {",
      '  const root: FileStat = await files.stat(".");',
      "  const usage: WorkspaceUsage | undefined = root.usage;",
      '  const listed: FileList = await files.list(".", options.list);',
      "  const cut: boolean = listed.truncated;",
      '  const download: FileDownload = files.download("a", options.download);',
      "  for await (const chunk of download) void chunk.byteLength;",
      "  const ready: DownloadReady | undefined = download.ready;",
      '  const watch: FileWatch = await files.watch(".", options.watch);',
      "  for await (const event of watch) void (event satisfies FileEvent);",
      '  await files.mkdir("d", options.mkdir);',
      '  await files.remove("d", options.remove);',
      '  await files.upload("u", new Uint8Array(1), options.upload);',
      '  void [usage, cut, ready, await files.read("a", options.read)];',
      '  await files.write("b", "x", options.write);',
      '  return files.move("b", "c", options.move);',
      "}",
    ].join("\n");
    writeFileSync(join(consumer, "check.ts"), source);
    const compilerOptions = { module: "nodenext", target: "es2022", lib: ["es2022"], types: ["node"], strict: true, noEmit: true, skipLibCheck: false };
    writeFileSync(join(consumer, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["check.ts"] }));
    expect(await run([join(REPO_ROOT, "node_modules", ".bin", "tsc"), "-p", "."], consumer)).toEqual({ code: 0, stdout: "", stderr: "" });
  });
});
