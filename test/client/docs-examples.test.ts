// The library examples of docs/CLIENT.md run as written, under Bun and under Node 20 (the built
// entry, with `ws`), against a real server: a user audit copied them and got `not_found` (a `cwd`
// that a new session's empty workspace does not have), a stream read twice, undefined variables.
// An example that starts with its own `import` runs whole; the snippets after it take the
// `session` (and `url`, `token`) that example makes, as the text says.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT, startServer } from "../helpers/server-process.ts";
import { bundleNodeClient } from "../helpers/node-client-bundle.ts";

const server = await startServer();
const work = mkdtempSync(join(tmpdir(), "bunker-client-docs-"));
afterAll(async () => {
  await server[Symbol.asyncDispose]();
  rmSync(work, { recursive: true, force: true });
});

beforeAll(() => bundleNodeClient(work));

/** The URL the examples name; each run swaps in the test server's. */
const DOCUMENTED_URL = '"ws://127.0.0.1:7681/ws"';
const IMPORT = 'import { connect } from "bunker/client";';

/** The ```ts blocks of the library part of CLIENT.md (the CLI part has its own). */
function libraryExamples(): string[] {
  const text = readFileSync(join(REPO_ROOT, "docs", "CLIENT.md"), "utf8");
  const library = text.slice(text.indexOf("## The client library"), text.indexOf("## The CLI client"));
  return [...library.matchAll(/```ts\n([^]*?)```/g)].map((match) => match[1]!);
}

/** The example as a module for `runtime`: its `bunker/client` is this checkout's, its URL the test server's. */
function asModule(example: string, runtime: "bun" | "node"): string {
  const client = runtime === "bun" ? join(REPO_ROOT, "src", "client", "index.ts") : pathToFileURL(join(work, "node.mjs")).href;
  const whole = example.startsWith(IMPORT)
    ? example
    : [IMPORT, "const url = process.env.BUNKER_URL;", "const token = process.env.BUNKER_TOKEN;", "const session = await connect(url, { token });", "try {", example, "} finally {", "  await session.close();", "}"].join("\n");
  return whole.replace('"bunker/client"', JSON.stringify(client)).replaceAll(DOCUMENTED_URL, "process.env.BUNKER_URL");
}

const examples = libraryExamples();

test("CLIENT.md has its library examples where this test looks", () => {
  expect(examples.length).toBeGreaterThanOrEqual(5);
  expect(examples[0]!.startsWith(IMPORT)).toBe(true);
});

describe.each(["bun", "node"] as const)("under %s", (runtime) => {
  test.each(examples.map((example, index) => [index + 1, example.split("\n").find((line) => line && !line.startsWith("import"))!, example] as const))(
    "example %d (%s) runs as written and exits 0 with nothing on stderr",
    async (index, _firstLine, example) => {
      const file = join(work, `example-${index}-${runtime}.mjs`);
      writeFileSync(file, asModule(example, runtime));
      const command = runtime === "bun" ? [process.execPath, file] : ["node", file];
      const proc = Bun.spawn(command, {
        cwd: work,
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", BUNKER_URL: server.url, BUNKER_TOKEN: server.token! },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
      // SHOW_EXAMPLE_OUTPUT=1 prints what each example printed, to compare with its comments.
      if (process.env["SHOW_EXAMPLE_OUTPUT"]) console.log(`--- ${runtime} ${index}\n${stdout}`);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout).not.toBe("");
    },
    30_000,
  );
});
