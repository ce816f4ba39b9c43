import { describe, expect, test } from "bun:test";
import type { ClientMessage, ExecInfo } from "../../src/protocol/index.ts";
import { ACK_WINDOW_BYTES } from "../../src/web/ack-window.ts";
import { PRE_CREDIT_REFUSAL } from "../../src/client/stdin-credit.ts";
import { createShell, type Shell, type ShellTerminal } from "../../src/web/shell.ts";
import { SHELL_COMMAND, SHELL_ENV } from "../../src/web/shell-command.ts";

/** A terminal that records what is written and renders at once; a sender that records messages. */
function harness(size = { cols: 80, rows: 24 }) {
  const written: (string | Uint8Array)[] = [];
  const sent: ClientMessage[] = [];
  const term: ShellTerminal & { cols: number; rows: number } = {
    ...size,
    write(data, callback) {
      written.push(data);
      callback?.();
    },
  };
  let changes = 0;
  const shell = createShell({ id: "shell-1", term, send: (message) => (sent.push(message), true), changed: () => changes++ });
  const text = () => written.map((item) => (typeof item === "string" ? item : new TextDecoder().decode(item))).join("");
  return { shell, term, sent, written, text, changes: () => changes };
}

const bytes = (text: string) => new TextEncoder().encode(text);
const creditAsked: ClientMessage = { type: "stdin", id: "shell-1", credit: true };
/** The server's answer to the page's `credit: true`. */
const granted = (shell: Shell, limit = 1024 * 1024, received = 0) => shell.handle({ type: "stdin.ack", id: "shell-1", offset: 0, limit, received });
const stdinData = (sent: ClientMessage[]) => sent.filter((message) => message.type === "stdin" && message.data !== undefined);
const running: ExecInfo = { id: "shell-1", pty: true, state: "running", pid: 1, startedAt: 0, bytes: { stdout: 0, stderr: 0 } };

describe("a shell in a terminal", () => {
  test("starts as a PTY exec of the terminal's size, with binary output and an ack window", () => {
    const { shell, sent } = harness({ cols: 120, rows: 40 });
    shell.start();
    expect(sent).toEqual([
      {
        type: "exec",
        id: "shell-1",
        cmd: SHELL_COMMAND,
        env: SHELL_ENV,
        pty: { cols: 120, rows: 40 },
        stdin: true,
        encoding: "binary",
        ackWindowBytes: ACK_WINDOW_BYTES,
      },
    ]);
  });

  test("holds keystrokes typed before started, asks for credit at started, and sends them on its answer, in order", () => {
    const { shell, sent } = harness();
    shell.start();
    shell.input("ls");
    shell.input("\r");
    expect(sent).toHaveLength(1);
    shell.handle({ type: "started", id: "shell-1", pid: 7, pty: { cols: 80, rows: 24 } });
    expect(sent.slice(1)).toEqual([creditAsked]);
    granted(shell);
    expect(sent.slice(2)).toEqual([
      { type: "stdin", id: "shell-1", data: "ls" },
      { type: "stdin", id: "shell-1", data: "\r" },
    ]);
    expect(shell.state).toBe("running");
  });

  test("sends resize only when the size changed since the exec or the last resize", () => {
    const { shell, sent, term } = harness();
    shell.start();
    shell.handle({ type: "started", id: "shell-1", pid: 7 });
    shell.resize({ cols: 80, rows: 24 });
    term.cols = 100;
    shell.resize({ cols: 100, rows: 24 });
    shell.resize({ cols: 100, rows: 24 });
    expect(sent.filter((message) => message.type === "resize")).toEqual([{ type: "resize", id: "shell-1", cols: 100, rows: 24 }]);
  });

  test("writes output to the terminal and acks each quarter window once rendered", () => {
    const { shell, sent, text } = harness();
    shell.start();
    shell.handle({ type: "started", id: "shell-1", pid: 7 });
    const quarter = ACK_WINDOW_BYTES / 4;
    shell.output(0, bytes("hi\r\n"));
    shell.output(4, new Uint8Array(quarter));
    expect(text().startsWith("hi\r\n")).toBe(true);
    expect(sent.filter((message) => message.type === "ack")).toEqual([{ type: "ack", id: "shell-1", stream: "stdout", offset: quarter + 4 }]);
  });

  test("after an attach, writes bytes it already has only once", () => {
    const { shell, sent, text } = harness();
    shell.start();
    shell.handle({ type: "started", id: "shell-1", pid: 7 });
    shell.output(0, bytes("abc"));
    shell.attach(running);
    expect(sent.filter((message) => message.type === "attach")).toEqual([{ type: "attach", id: "shell-1", offsets: { stdout: 3 }, encoding: "binary", ackWindowBytes: ACK_WINDOW_BYTES }]);
    shell.output(1, bytes("bcdef"));
    shell.output(0, bytes("abc"));
    expect(text()).toBe("abcdef");
  });

  test("drops the terminal's answers to queries in output replayed after an attach, then takes keystrokes again", () => {
    const { shell, sent } = harness();
    shell.attach({ ...running, bytes: { stdout: 5, stderr: 0 } });
    // xterm.js answers the DA1 query in the replayed bytes: that must not reach today's prompt.
    shell.input("\x1b[?1;2c");
    shell.output(0, bytes("\x1b[c"));
    shell.input("\x1b[?1;2c");
    shell.output(3, bytes("$ "));
    shell.input("l");
    granted(shell);
    expect(stdinData(sent)).toEqual([{ type: "stdin", id: "shell-1", data: "l" }]);
  });

  test("takes keystrokes at once after an attach that has nothing to replay, and sends them on the new socket's credit", () => {
    const { shell, sent } = harness();
    shell.start();
    shell.handle({ type: "started", id: "shell-1", pid: 7 });
    granted(shell);
    shell.output(0, bytes("$ "));
    shell.attach({ ...running, bytes: { stdout: 2, stderr: 0 } });
    shell.input("l");
    // Credit is per socket: the attach asked again, and the keystroke waits for that answer.
    expect(sent.filter((message) => message.type === "stdin")).toEqual([creditAsked, creditAsked]);
    granted(shell);
    expect(stdinData(sent)).toEqual([{ type: "stdin", id: "shell-1", data: "l" }]);
  });

  test("says so in the terminal when the server lost output, and acks past the gap", () => {
    const { shell, sent, text } = harness();
    shell.start();
    shell.handle({ type: "started", id: "shell-1", pid: 7 });
    shell.handle({ type: "gap", id: "shell-1", stream: "stdout", from: 0, to: ACK_WINDOW_BYTES });
    shell.output(ACK_WINDOW_BYTES, bytes("tail"));
    expect(text()).toContain(`[bunker] ${ACK_WINDOW_BYTES} bytes of output were no longer buffered on the server`);
    expect(text().endsWith("tail")).toBe(true);
    expect(sent.filter((message) => message.type === "ack")).toEqual([{ type: "ack", id: "shell-1", stream: "stdout", offset: ACK_WINDOW_BYTES }]);
  });

  test("shows the exit code, then takes no more keystrokes", () => {
    const { shell, sent, text } = harness();
    shell.start();
    shell.handle({ type: "started", id: "shell-1", pid: 7 });
    shell.handle({ type: "exit", id: "shell-1", code: 3, signal: null, reason: "exited", durationMs: 5 });
    shell.input("ls\r");
    expect(shell.state).toBe("exited");
    expect(shell.ending).toBe("shell exited with code 3");
    expect(text()).toContain("[bunker] shell exited with code 3; press Enter for a new shell");
    expect(stdinData(sent)).toEqual([]);
  });

  test("reports an exec the server refused as a shell that could not start", () => {
    const { shell, text } = harness();
    shell.start();
    shell.handle({ type: "error", id: "shell-1", code: "limit_exceeded", message: "16 execs already run in this session" });
    expect(shell.state).toBe("exited");
    expect(shell.ending).toBe("could not start a shell: limit_exceeded: 16 execs already run in this session");
    expect(text()).toContain("press Enter for a new shell");
  });
});

describe("a shell's stdin, paced by credit", () => {
  /** A running shell whose credit request has been answered with `limit`. */
  function runningShell(limit: number) {
    const page = harness();
    page.shell.start();
    page.shell.handle({ type: "started", id: "shell-1", pid: 7 });
    granted(page.shell, limit);
    return page;
  }

  test("a paste past the credit goes out up to it, cut at a character boundary, and the rest on more credit", () => {
    const { shell, sent } = runningShell(10);
    // "é" is two bytes in UTF-8: ten bytes of credit take "abcdefgh" and "é", not half of the next one.
    shell.input("abcdefghéé");
    expect(stdinData(sent)).toEqual([{ type: "stdin", id: "shell-1", data: "abcdefghé" }]);
    shell.handle({ type: "stdin.ack", id: "shell-1", offset: 0, limit: 12 });
    expect(stdinData(sent).slice(1)).toEqual([{ type: "stdin", id: "shell-1", data: "é" }]);
  });

  test("binary input (one char per byte) is cut to the credit too", () => {
    const { shell, sent } = runningShell(2);
    shell.inputBinary("\x01\x02\x03");
    expect(stdinData(sent)).toEqual([{ type: "stdin", id: "shell-1", data: btoa("\x01\x02"), encoding: "base64" }]);
  });

  test("asked for its credit back while idle, it gives it back at once; while a paste waits, once it is out of credit", () => {
    const idle = runningShell(1024);
    idle.shell.handle({ type: "stdin.ack", id: "shell-1", offset: 0, limit: 1024, contended: true });
    expect(idle.sent.filter((message) => message.type === "stdin")).toEqual([creditAsked, creditAsked]);

    const busy = runningShell(4);
    busy.shell.input("abcdefgh");
    busy.shell.handle({ type: "stdin.ack", id: "shell-1", offset: 0, limit: 4, contended: true });
    expect(busy.sent.filter((message) => message.type === "stdin")).toEqual([creditAsked, { type: "stdin", id: "shell-1", data: "abcd" }, creditAsked]);
    // Until the answer, a limit without `received` is not acted on.
    busy.shell.handle({ type: "stdin.ack", id: "shell-1", offset: 0, limit: 100 });
    expect(stdinData(busy.sent)).toHaveLength(1);
    granted(busy.shell, 4 + 4, 4);
    expect(stdinData(busy.sent).slice(1)).toEqual([{ type: "stdin", id: "shell-1", data: "efgh" }]);
  });

  test("once a paste is out, credit it grew past the first 1 MiB goes back: a dropped socket would hold it from the next", () => {
    const MiB = 1024 * 1024;
    const { shell, sent } = runningShell(MiB);
    shell.input("x".repeat(3 * MiB));
    expect(stdinData(sent).reduce((sum, message) => sum + (message.type === "stdin" ? message.data!.length : 0), 0)).toBe(MiB);
    shell.handle({ type: "stdin.ack", id: "shell-1", offset: 0, limit: 5 * MiB });
    const afterPaste = sent.filter((message) => message.type === "stdin");
    expect(stdinData(sent).reduce((sum, message) => sum + (message.type === "stdin" ? message.data!.length : 0), 0)).toBe(3 * MiB);
    // 2 MiB unused once the paste is out: more than a typist needs, so back it goes.
    expect(afterPaste.slice(-1)).toEqual([creditAsked]);
    expect(afterPaste.filter((message) => message.type === "stdin" && message.credit)).toHaveLength(2);
  });

  test("a server that predates credit refuses the request: the page paces by stdin.ack offsets, and shows no error", () => {
    const { shell, sent, text } = harness();
    shell.start();
    shell.handle({ type: "started", id: "shell-1", pid: 7 });
    shell.input("ls\r");
    shell.handle({ type: "error", id: "shell-1", code: "bad_message", message: PRE_CREDIT_REFUSAL });
    expect({ stdin: stdinData(sent), text: text(), state: shell.state }).toEqual({ stdin: [{ type: "stdin", id: "shell-1", data: "ls\r" }], text: "", state: "running" });
  });

  test("after a resume, sends again what the server lacks of its stdin, counted in UTF-8 bytes, before the keystrokes that wait", () => {
    const { shell, sent } = harness();
    shell.start();
    shell.handle({ type: "started", id: "shell-1", pid: 7 });
    granted(shell);
    shell.input("é1");
    shell.input("日2");
    shell.attach({ ...running, stdin: { received: 3, ended: false } });
    shell.input("x");
    sent.length = 0;
    granted(shell);
    expect(stdinData(sent)).toEqual([
      { type: "stdin", id: "shell-1", data: Buffer.from("日2").toString("base64"), encoding: "base64" },
      { type: "stdin", id: "shell-1", data: "x" },
    ]);
  });

  test("after a resume, sends nothing again when the server has it all, or gives no count (an older server)", () => {
    for (const stdin of [{ received: 2, ended: false }, undefined]) {
      const { shell, sent } = harness();
      shell.start();
      shell.handle({ type: "started", id: "shell-1", pid: 7 });
      granted(shell);
      shell.input("ab");
      shell.attach({ ...running, ...(stdin && { stdin }) });
      shell.input("x");
      sent.length = 0;
      granted(shell);
      expect(stdinData(sent)).toEqual([{ type: "stdin", id: "shell-1", data: "x" }]);
    }
  });
});
