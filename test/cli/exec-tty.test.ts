// `bunker exec -t` and `bunker shell` in a real terminal: each test runs bunker inside a detached
// tmux session of a known size and reads the screen back with capture-pane.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { NO_TERMINAL_WARNING } from "../../src/cli/terminal-choice.ts";
import { BUN, REPO_ROOT, startServer, type TestServer } from "../helpers/server-process.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";

const noTmuxReason = Bun.which("tmux") ? undefined : "tmux is missing (apt-get install tmux)";
if (noTmuxReason) console.warn(`skipping the -t tests: ${noTmuxReason}`);

const server = await startServer();
afterAll(() => server[Symbol.asyncDispose]());

const MAIN = join(REPO_ROOT, "src", "main.ts");
let terminals = 0;

/** A tmux server of its own, running one shell line in a 100x30 window (or `cols` wide), with `target`'s URL and token. */
async function openTerminal(line: string, target: Pick<TestServer, "url" | "token"> = server, cols = 100) {
  const socket = `bunker-test-${process.pid}-${++terminals}`;
  const tmux = async (...args: string[]) => {
    const proc = Bun.spawn(["tmux", "-L", socket, "-f", "/dev/null", ...args], { stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    if (code !== 0) throw new Error(`tmux ${args[0]} failed: ${err}`);
    return out;
  };
  // The pane outlives bunker, so that its exit status stays on the screen.
  await tmux("new-session", "-d", "-x", String(cols), "-y", "30", "-s", "t", "-e", `BUNKER_URL=${target.url}`, "-e", `BUNKER_TOKEN=${target.token}`, `${line}; echo EXIT=$?; sleep 600`);
  const screen = () => tmux("capture-pane", "-p", "-t", "t");
  return {
    screen,
    /** Waits until the screen matches; fails with the screen's text after 15 s. */
    async waitFor(pattern: RegExp): Promise<string> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const text = await screen();
        if (pattern.test(text)) return text;
        if (Date.now() > deadline) throw new Error(`the screen never matched ${pattern}:\n${text}`);
        await Bun.sleep(50);
      }
    },
    sendKeys: (...keys: string[]) => tmux("send-keys", "-t", "t", ...keys),
    resize: (cols: number, rows: number) => tmux("resize-window", "-t", "t", "-x", String(cols), "-y", String(rows)),
    async [Symbol.asyncDispose]() {
      await tmux("kill-server").catch(() => {});
    },
  };
}

const bunker = `${BUN} ${MAIN}`;
/** Prints the local terminal's output processing and line editing flags, one a line: `opost` or `-opost`, `icanon` or `-icanon`. */
const showTerminalModes = "stty -a | grep -ow -- '-\\?opost\\|-\\?icanon'";

describe.skipIf(noTmuxReason !== undefined)("bunker exec -t under tmux", () => {
  test("runs on a terminal of the local size: tput cols prints 100", async () => {
    await using terminal = await openTerminal(`${bunker} exec -t -- sh -c 'tput cols; stty size'`);
    const screen = await terminal.waitFor(/EXIT=\d+/);
    expect(screen.split("\n").filter(Boolean)).toEqual(["100", "30 100", "EXIT=0"]);
  }, 30_000);

  test("forwards a resize of the local terminal: the program gets SIGWINCH and the new size", async () => {
    await using terminal = await openTerminal(`${bunker} exec -t -- sh -c 'trap "stty size" WINCH; echo ready; while :; do sleep 0.1; done'`);
    await terminal.waitFor(/ready/);
    await terminal.resize(120, 40);
    await terminal.waitFor(/^40 120$/m);
  }, 30_000);

  test("Ctrl-C (tmux send-keys C-c) interrupts the command: exit 130", async () => {
    // `exec sleep`: the interrupted program is the exec's first process, whose signal the exit reports.
    await using terminal = await openTerminal(`${bunker} exec -t -- sh -c 'echo ready; exec sleep 100'`);
    await terminal.waitFor(/ready/);
    await terminal.sendKeys("C-c");
    await terminal.waitFor(/EXIT=130/);
  }, 30_000);

  test("output processing is off as in ssh's raw mode: a bare \\n from a program that turned it off moves down without returning", async () => {
    // Locally on, OPOST would turn that \n into \r\n, and "b" would start at the left edge.
    await using terminal = await openTerminal(`${bunker} exec -t -- sh -c 'stty -opost; printf "a\\nb\\r\\n"'`);
    const screen = await terminal.waitFor(/EXIT=\d+/);
    expect(screen.split("\n").filter(Boolean)).toEqual(["a", " b", "EXIT=0"]);
  }, 30_000);

  test("the local terminal gets its line editing and output processing back when the command ends", async () => {
    await using terminal = await openTerminal(`${bunker} exec -t -- true; ${showTerminalModes}`);
    const screen = await terminal.waitFor(/EXIT=\d+/);
    expect(screen.split("\n").filter(Boolean)).toEqual(["opost", "icanon", "EXIT=0"]);
  }, 30_000);

  test("the local terminal is restored when the connection is lost mid-command, before bunker says so", async () => {
    await using own = await startServer();
    await using terminal = await openTerminal(`${bunker} exec -t -- sh -c 'echo ready; exec sleep 100'; echo status=$?; ${showTerminalModes}`, own);
    await terminal.waitFor(/^ready$/m);
    await own.stop();
    const screen = await terminal.waitFor(/EXIT=\d+/);
    expect(screen.split("\n").filter(Boolean).slice(1)).toEqual([expect.stringMatching(/^bunker: /), "status=255", "opost", "icanon", "EXIT=0"]);
  }, 30_000);

  test("a dropped connection is resumed in raw mode: the notices start at the left edge, keys still reach the command", async () => {
    await using proxy = await startTcpProxy(server.port);
    const target = { url: `ws://127.0.0.1:${proxy.port}/ws`, token: server.token };
    // Wide enough for the notice on one line.
    await using terminal = await openTerminal(`${bunker} exec -t -- sh -c 'echo ready; read line; echo got-$line'`, target, 160);
    await terminal.waitFor(/^ready$/m);
    proxy.dropAll();
    await terminal.waitFor(/^bunker: reconnected; the output goes on from where it stopped$/m);
    await terminal.sendKeys("abc", "Enter");
    const screen = await terminal.waitFor(/EXIT=\d+/);
    expect(screen.split("\n").filter(Boolean)).toEqual([
      "ready",
      expect.stringMatching(/^bunker: the connection was lost \(1006\); reconnecting to session "[^"]+" to follow exec "[^"]+"\.\.\.$/),
      "bunker: reconnected; the output goes on from where it stopped",
      "abc",
      "got-abc",
      "EXIT=0",
    ]);
  }, 30_000);

  test("stdout piped (| cat) keeps the terminal: keys come from the local one, the size from stderr's", async () => {
    await using terminal = await openTerminal(`${bunker} exec -t -- sh -c 'stty size; read line; echo got-$line' | cat; ${showTerminalModes}`);
    await terminal.waitFor(/^30 100$/m);
    await terminal.sendKeys("abc", "Enter");
    const screen = await terminal.waitFor(/EXIT=\d+/);
    expect(screen.split("\n").filter(Boolean)).toEqual(["30 100", "abc", "got-abc", "opost", "icanon", "EXIT=0"]);
  }, 30_000);

  test("stdin piped in a terminal: bunker says it runs without one, leaves the local terminal as it is, and cat ends", async () => {
    // Wide enough for the warning on one line.
    await using terminal = await openTerminal(`printf hi | ${bunker} exec -t -- cat; echo; ${showTerminalModes}`, server, 160);
    const screen = await terminal.waitFor(/EXIT=\d+/);
    expect(screen.split("\n").filter(Boolean)).toEqual([`bunker: ${NO_TERMINAL_WARNING}`, "hi", "opost", "icanon", "EXIT=0"]);
  }, 30_000);

  test("the local terminal is restored when bunker dies of an uncaught error while raw", async () => {
    const fixture = join(import.meta.dir, "fixtures", "raw-then-crash.ts");
    await using terminal = await openTerminal(`${BUN} ${fixture} 2>/dev/null; echo status=$?; ${showTerminalModes}`);
    const screen = await terminal.waitFor(/EXIT=\d+/);
    expect(screen.split("\n").filter(Boolean)).toEqual(["status=1", "opost", "icanon", "EXIT=0"]);
  }, 30_000);

  test("bunker shell: typed lines run, Ctrl-C stops the foreground job but not the shell, exit's code comes back", async () => {
    await using terminal = await openTerminal(`${bunker} shell`);
    await terminal.sendKeys("echo hi-$((1+2)); sleep 100", "Enter");
    await terminal.waitFor(/^hi-3$/m);
    await terminal.sendKeys("C-c");
    await terminal.sendKeys("echo still-$((2+2)); exit 7", "Enter");
    const screen = await terminal.waitFor(/EXIT=7/);
    expect(screen).toMatch(/^still-4$/m);
  }, 30_000);
});
