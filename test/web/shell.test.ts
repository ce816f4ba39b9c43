import { describe, expect, test } from "bun:test";
import type { ClientMessage, ExecInfo } from "../../src/protocol/index.ts";
import { ACK_WINDOW_BYTES } from "../../src/web/ack-window.ts";
import { createShell, type ShellTerminal } from "../../src/web/shell.ts";
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

  test("holds keystrokes typed before started and sends them after it, in order", () => {
    const { shell, sent } = harness();
    shell.start();
    shell.input("ls");
    shell.input("\r");
    expect(sent).toHaveLength(1);
    shell.handle({ type: "started", id: "shell-1", pid: 7, pty: { cols: 80, rows: 24 } });
    expect(sent.slice(1)).toEqual([
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
    expect(sent.slice(1)).toEqual([{ type: "resize", id: "shell-1", cols: 100, rows: 24 }]);
  });

  test("writes output to the terminal and acks each quarter window once rendered", () => {
    const { shell, sent, text } = harness();
    shell.start();
    shell.handle({ type: "started", id: "shell-1", pid: 7 });
    const quarter = ACK_WINDOW_BYTES / 4;
    shell.output(0, bytes("hi\r\n"));
    shell.output(4, new Uint8Array(quarter));
    expect(text().startsWith("hi\r\n")).toBe(true);
    expect(sent.slice(1)).toEqual([{ type: "ack", id: "shell-1", stream: "stdout", offset: quarter + 4 }]);
  });

  test("after an attach, writes bytes it already has only once", () => {
    const { shell, sent, text } = harness();
    shell.start();
    shell.handle({ type: "started", id: "shell-1", pid: 7 });
    shell.output(0, bytes("abc"));
    shell.attach(running);
    expect(sent[1]).toEqual({ type: "attach", id: "shell-1", offsets: { stdout: 3 }, encoding: "binary", ackWindowBytes: ACK_WINDOW_BYTES });
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
    expect(sent.filter((message) => message.type === "stdin")).toEqual([{ type: "stdin", id: "shell-1", data: "l" }]);
  });

  test("takes keystrokes at once after an attach that has nothing to replay", () => {
    const { shell, sent } = harness();
    shell.start();
    shell.handle({ type: "started", id: "shell-1", pid: 7 });
    shell.output(0, bytes("$ "));
    shell.attach({ ...running, bytes: { stdout: 2, stderr: 0 } });
    shell.input("l");
    expect(sent.filter((message) => message.type === "stdin")).toEqual([{ type: "stdin", id: "shell-1", data: "l" }]);
  });

  test("says so in the terminal when the server lost output, and acks past the gap", () => {
    const { shell, sent, text } = harness();
    shell.start();
    shell.handle({ type: "started", id: "shell-1", pid: 7 });
    shell.handle({ type: "gap", id: "shell-1", stream: "stdout", from: 0, to: ACK_WINDOW_BYTES });
    shell.output(ACK_WINDOW_BYTES, bytes("tail"));
    expect(text()).toContain(`[bunker] ${ACK_WINDOW_BYTES} bytes of output were no longer buffered on the server`);
    expect(text().endsWith("tail")).toBe(true);
    expect(sent.slice(1)).toEqual([{ type: "ack", id: "shell-1", stream: "stdout", offset: ACK_WINDOW_BYTES }]);
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
    expect(sent).toHaveLength(1);
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
