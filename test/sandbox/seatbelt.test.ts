import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSeatbeltProfile } from "../../src/sandbox/seatbelt-profile.ts";
import { createSeatbeltBackend, probeSeatbelt, toSeatbeltPath } from "../../src/sandbox/seatbelt.ts";
import type { ExecSpec, SandboxPolicy } from "../../src/sandbox/types.ts";

/** The top-level forms of an SBPL text, in order; throws on unbalanced parentheses. */
function topLevelForms(profile: string): string[] {
  const forms: string[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  let inComment = false;
  for (let i = 0; i < profile.length; i++) {
    const char = profile[i];
    if (inComment) {
      if (char === "\n") inComment = false;
    } else if (inString) {
      if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === ";") {
      inComment = true;
    } else if (char === "(") {
      if (depth === 0) start = i;
      depth++;
    } else if (char === ")") {
      depth--;
      if (depth < 0) throw new Error(`unbalanced ")" at offset ${i}`);
      if (depth === 0) forms.push(profile.slice(start, i + 1));
    }
  }
  if (depth !== 0 || inString) throw new Error("profile ends inside a form or a string");
  return forms;
}

const PROFILES = {
  networkDenied: buildSeatbeltProfile({ allowNetwork: false }),
  networkAllowed: buildSeatbeltProfile({ allowNetwork: true }),
};

const TEMP_DIR = "/Users/alice/.bunker/tmp";
const WORKSPACE = "/Users/alice/.bunker/workspaces/s1";

function specIn(workspace: string, argv: string[]): ExecSpec {
  return { argv, cwd: workspace, env: { PATH: "/usr/bin:/bin", HOME: workspace } };
}

describe("buildSeatbeltProfile", () => {
  test("matches the reviewed profile when the network is denied", () => {
    expect(PROFILES.networkDenied).toMatchSnapshot();
  });

  test("matches the reviewed profile when the network is allowed", () => {
    expect(PROFILES.networkAllowed).toMatchSnapshot();
  });

  test("is a balanced list of forms that starts closed by default", () => {
    for (const profile of Object.values(PROFILES)) {
      const forms = topLevelForms(profile);
      expect(forms.slice(0, 2)).toEqual(["(version 1)", "(deny default)"]);
    }
  });

  test("opens every rule group with a comment saying why", () => {
    for (const profile of Object.values(PROFILES)) {
      const groups = profile.trim().split("\n\n").slice(1);
      for (const group of groups) expect(group).toMatch(/^; \S/);
    }
  });

  test("reaches the workspace and the temp dir only through parameters", () => {
    for (const profile of Object.values(PROFILES)) {
      expect(profile).toContain('(subpath (param "WORKSPACE"))');
      expect(profile).toContain('(subpath (param "TMPDIR"))');
      expect(profile).not.toContain("/Users");
    }
  });

  test("denies the whole network when allowNetwork is false", () => {
    const forms = topLevelForms(PROFILES.networkDenied);
    expect(forms).toContain("(deny network*)");
    expect(forms.filter((form) => /^\(allow (network|system-socket)/.test(form))).toEqual([]);
  });

  test("allows IP traffic, sockets and DNS when allowNetwork is true", () => {
    const forms = topLevelForms(PROFILES.networkAllowed);
    expect(forms).not.toContain("(deny network*)");
    expect(forms.filter((form) => /^\(allow (network|system-socket)/.test(form))).toEqual([
      '(allow network-outbound (remote ip "*:*"))',
      '(allow network-inbound (local ip "*:*"))',
      '(allow network-bind (local ip "*:*"))',
      "(allow system-socket)",
      '(allow network-outbound (remote unix-socket (path-literal "/private/var/run/mDNSResponder")))',
    ]);
  });

  test("denies Launch Services and Apple Events after every mach allowance, whatever the network", () => {
    for (const profile of Object.values(PROFILES)) {
      const forms = topLevelForms(profile);
      const denial = forms.findIndex((form) => form.startsWith("(deny mach-lookup"));
      const lastAllowance = forms.findLastIndex((form) => form.startsWith("(allow mach-lookup"));
      expect(denial).toBeGreaterThan(lastAllowance);
      expect(forms[denial]).toContain('(global-name "com.apple.coreservices.launchservicesd")');
      expect(forms[denial]).toContain('(global-name-regex #"^com\\.apple\\.lsd\\.")');
      expect(forms[denial]).toContain('(global-name "com.apple.coreservices.appleevents")');
      expect(forms.at(-1)).toBe("(deny appleevent-send)");
      for (const allowance of forms.filter((form) => form.startsWith("(allow mach-lookup"))) {
        expect(allowance).not.toMatch(/launchservices|lsd|appleevents|pasteboard|cfprefsd/);
      }
    }
  });

  test("lets nothing but the workspace and the temp dir be written", () => {
    for (const profile of Object.values(PROFILES)) {
      const writes = topLevelForms(profile).filter((form) => /^\(allow [^()]*file-write/.test(form));
      expect(writes).toEqual([
        '(allow file-read* file-write-data (literal "/dev/null") (literal "/dev/zero"))',
        '(allow file-read* file-write-data (subpath "/dev/fd"))',
        '(allow file-read* file-write-data file-ioctl (literal "/dev/tty"))',
        '(allow file-read* file-write* (subpath (param "WORKSPACE")) (subpath (param "TMPDIR")))',
      ]);
    }
  });

  test("puts each carve-out after the allowance it narrows, since the last matching rule wins", () => {
    const forms = topLevelForms(PROFILES.networkDenied);
    const systemReads = forms.findIndex((form) => form.startsWith("(allow file-read*") && form.includes('(subpath "/System")'));
    const carveOuts = ['(subpath "/usr/local/var")', '(subpath "/System/Volumes")'].map((filter) =>
      forms.findIndex((form) => form.startsWith("(deny file-read*") && form.includes(filter)),
    );
    for (const carveOut of carveOuts) expect(carveOut).toBeGreaterThan(systemReads);
  });

  test("never grants hard links or clones, which would alias an outside file into the workspace", () => {
    for (const profile of Object.values(PROFILES)) {
      expect(profile).not.toMatch(/file-link|file-clone|\(allow file\*|\(allow default/);
    }
  });
});

describe("createSeatbeltBackend", () => {
  test("builds exactly the sandbox-exec argv, environment and process-group tree", () => {
    const backend = createSeatbeltBackend({ tempDir: TEMP_DIR });
    const policy: SandboxPolicy = { workspace: WORKSPACE, allowNetwork: false };
    const spec = specIn(WORKSPACE, ["/bin/sh", "-c", "echo hi"]);
    expect(backend.name).toBe("seatbelt");
    expect(backend.buildCommand(spec, policy)).toEqual({
      argv: [
        "/usr/bin/sandbox-exec",
        "-p",
        PROFILES.networkDenied,
        "-D",
        `WORKSPACE=${WORKSPACE}`,
        "-D",
        `TMPDIR=${TEMP_DIR}`,
        "--",
        "/bin/sh",
        "-c",
        "echo hi",
      ],
      env: { PATH: "/usr/bin:/bin", HOME: WORKSPACE, TMPDIR: TEMP_DIR },
      cwd: WORKSPACE,
      tree: "process-group",
      statusFds: {},
      detached: true,
    });
    expect(backend.tempDir(policy)).toBe(TEMP_DIR);
    expect(spec.env).toEqual({ PATH: "/usr/bin:/bin", HOME: WORKSPACE });
  });

  test("picks the profile by allowNetwork", () => {
    const backend = createSeatbeltBackend({ tempDir: TEMP_DIR });
    const spec = specIn(WORKSPACE, ["ls"]);
    expect(backend.buildCommand(spec, { workspace: WORKSPACE, allowNetwork: true }).argv[2]).toBe(PROFILES.networkAllowed);
    expect(backend.buildCommand(spec, { workspace: WORKSPACE, allowNetwork: false }).argv[2]).toBe(PROFILES.networkDenied);
  });

  test("keeps a workspace path out of the profile text and passes it only as a -D parameter", () => {
    const hostile = '/tmp/x") (allow default) ;';
    const backend = createSeatbeltBackend({ tempDir: '/tmp/t") (allow file-write* (subpath "/")) ;' });
    for (const allowNetwork of [false, true]) {
      const { argv } = backend.buildCommand(specIn(hostile, ["/bin/ls"]), { workspace: hostile, allowNetwork });
      const profile = argv[2] ?? "";
      expect(profile).toBe(buildSeatbeltProfile({ allowNetwork }));
      expect(profile).not.toContain("/tmp/x");
      expect(profile).not.toContain("/tmp/t");
      expect(profile).not.toContain("(allow default)");
      expect(argv.slice(3, 8)).toEqual([
        "-D",
        'WORKSPACE=/private/tmp/x") (allow default) ;',
        "-D",
        'TMPDIR=/private/tmp/t") (allow file-write* (subpath "/")) ;',
        "--",
      ]);
    }
  });

  test("keeps a program whose name looks like an option after --", () => {
    const backend = createSeatbeltBackend({ tempDir: TEMP_DIR });
    const { argv } = backend.buildCommand(specIn(WORKSPACE, ["-f", "x"]), { workspace: WORKSPACE, allowNetwork: false });
    expect(argv.slice(-3)).toEqual(["--", "-f", "x"]);
  });

  test("rejects a relative temp dir or a root workspace with a TypeError that quotes the value", () => {
    expect(() => createSeatbeltBackend({ tempDir: "tmp" })).toThrow(new TypeError('tempDir must be an absolute path, got "tmp"'));
    const backend = createSeatbeltBackend({ tempDir: TEMP_DIR });
    expect(() => backend.buildCommand(specIn("/", ["ls"]), { workspace: "/", allowNetwork: false })).toThrow(
      new TypeError('workspace must not be the root directory, got "/"'),
    );
  });
});

describe("toSeatbeltPath", () => {
  test("puts /tmp, /var and /etc under /private, where seatbelt sees them", () => {
    expect(toSeatbeltPath("/var/folders/ab/xyz/T/bunker-1")).toBe("/private/var/folders/ab/xyz/T/bunker-1");
    expect(toSeatbeltPath("/tmp")).toBe("/private/tmp");
    expect(toSeatbeltPath("/etc/")).toBe("/private/etc");
  });

  test("leaves other paths as they are, minus trailing slashes and dot segments", () => {
    expect(toSeatbeltPath("/private/tmp/x")).toBe("/private/tmp/x");
    expect(toSeatbeltPath("/tmpfiles/x")).toBe("/tmpfiles/x");
    expect(toSeatbeltPath("/Users/alice/./ws/")).toBe("/Users/alice/ws");
  });
});

describe.skipIf(process.platform === "darwin")("probeSeatbelt off macOS", () => {
  test("reports that sandbox-exec exists only on macOS without running anything", async () => {
    expect(await probeSeatbelt()).toEqual({ ok: false, reason: "sandbox-exec exists only on macOS" });
  });
});

// Execution under the real kernel policy: macOS only. Elsewhere only the text and argv above are checked.
const onMacOS = test.skipIf(process.platform !== "darwin");
if (process.platform !== "darwin") {
  console.warn(`seatbelt execution tests skipped: sandbox-exec exists only on macOS (this is ${process.platform})`);
}

interface TempDir extends AsyncDisposable {
  path: string;
}

/** A canonical temp dir: seatbelt matches resolved paths, and tmpdir() on macOS is behind /var. */
async function makeTempDir(prefix: string): Promise<TempDir> {
  const path = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

interface Finished {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function runSandboxed(argv: string[], workspace: string, tempDir: string, allowNetwork = false): Promise<Finished> {
  const backend = createSeatbeltBackend({ tempDir });
  const command = backend.buildCommand(specIn(workspace, argv), { workspace, allowNetwork });
  const child = Bun.spawn(command.argv, { env: command.env, cwd: command.cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr };
}

describe("seatbelt execution on macOS", () => {
  onMacOS("passes its startup probe", async () => {
    expect(await probeSeatbelt()).toEqual({ ok: true });
  });

  onMacOS("lets a command write inside the workspace and the temp dir", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    await using temp = await makeTempDir("bunker-tmp-");
    const result = await runSandboxed(["/bin/sh", "-c", 'echo inside > inside.txt && mktemp "$TMPDIR/x.XXXX"'], workspace.path, temp.path);
    expect(result.exitCode).toBe(0);
    expect(await readFile(join(workspace.path, "inside.txt"), "utf8")).toBe("inside\n");
    expect(result.stdout.startsWith(`${temp.path}/x.`)).toBe(true);
  });

  onMacOS("stops a command writing outside the workspace", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    await using temp = await makeTempDir("bunker-tmp-");
    await using outside = await makeTempDir("bunker-outside-");
    const target = join(outside.path, "escaped.txt");
    const result = await runSandboxed(["/bin/sh", "-c", `echo out > '${target}'`], workspace.path, temp.path);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("Operation not permitted");
    expect(existsSync(target)).toBe(false);
  });

  onMacOS("stops a command reading a file outside the workspace", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    await using temp = await makeTempDir("bunker-tmp-");
    await using outside = await makeTempDir("bunker-outside-");
    const secret = join(outside.path, "secret.txt");
    await writeFile(secret, "s3cret\n");
    const result = await runSandboxed(["/bin/cat", secret], workspace.path, temp.path);
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout).not.toContain("s3cret");
  });

  onMacOS("refuses a connection to a local server when allowNetwork is false", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    await using temp = await makeTempDir("bunker-tmp-");
    await using server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("reached") });
    const curl = ["/usr/bin/curl", "-sS", "--max-time", "5", `http://127.0.0.1:${server.port}/`];
    const denied = await runSandboxed(curl, workspace.path, temp.path, false);
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stdout).not.toContain("reached");
    // The control: the same request succeeds with the network allowed, so the denial above is the sandbox's.
    const allowed = await runSandboxed(curl, workspace.path, temp.path, true);
    expect(allowed).toMatchObject({ exitCode: 0, stdout: "reached" });
  });

  onMacOS("cannot reach other apps through open or osascript", async () => {
    await using workspace = await makeTempDir("bunker-ws-");
    await using temp = await makeTempDir("bunker-tmp-");
    const open = await runSandboxed(["/usr/bin/open", "-g", "-a", "Finder"], workspace.path, temp.path);
    expect(open.exitCode).not.toBe(0);
    const script = await runSandboxed(["/usr/bin/osascript", "-e", 'tell application "Finder" to get name'], workspace.path, temp.path);
    expect(script.exitCode).not.toBe(0);
  });
});
