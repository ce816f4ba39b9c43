// Which processes a persistent shell's follow-up SIGINT goes to, from two snapshots of its tree.
import { expect, test } from "bun:test";
import { chooseFollowUps, type FollowUpProcess, type ProcessAtSigint } from "../../src/exec/shell-follow-up.ts";

const SHELL = "bash\0--noprofile\0--norc\0-c\0loop\0";
const SHELL_PID = 10;

/** A snapshot: pid, parent, start time, argv (SHELL for the shell and its forks), and whether it caught or ignored SIGINT. */
function snapshot(rows: [pid: number, ppid: number, startTime: string, cmdline: string, handlesSigint?: boolean][]): Map<number, ProcessAtSigint> {
  return new Map(rows.map(([pid, ppid, startTime, cmdline, handlesSigint = false]) => [pid, { ppid, startTime, cmdline, handlesSigint }]));
}

function now(rows: [pid: number, ppid: number, startTime: string, cmdline: string][]): Map<number, FollowUpProcess> {
  return new Map(rows.map(([pid, ppid, startTime, cmdline]) => [pid, { ppid, startTime, cmdline }]));
}

test("a program the shell forks after the SIGINT missed it, and the shell is asked to end its command: `cat` was exiting as it came", () => {
  // `echo started | cat; sleep 100`: cat, already exiting, did not die of the SIGINT; the shell saw it exit 0 and went on.
  const before = snapshot([
    [SHELL_PID, 1, "100", SHELL],
    [11, SHELL_PID, "101", ""],
    [12, SHELL_PID, "102", "cat\0"],
  ]);
  const later = now([
    [SHELL_PID, 1, "100", SHELL],
    [13, SHELL_PID, "103", "sleep\u0000100\0"],
  ]);
  expect(chooseFollowUps(SHELL_PID, before, later)).toEqual({ missed: [13], askShell: true });
});

test("a program forked by a subshell after the SIGINT missed it too: a function in a pipeline that lost the SIGINT as it forked", () => {
  // `f | cat`, f running `sleep 100`: the subshell (bash's argv) was there before, its `sleep` was not, or was still bash's fork.
  const before = snapshot([
    [SHELL_PID, 1, "100", SHELL],
    [11, SHELL_PID, "101", SHELL],
    [12, SHELL_PID, "102", "cat\0"],
    [14, 11, "104", SHELL],
  ]);
  const later = now([
    [SHELL_PID, 1, "100", SHELL],
    [11, SHELL_PID, "101", SHELL],
    [13, 11, "103", "sleep\u0000100\0"],
    [14, 11, "104", "sleep\u0000100\0"],
    [15, 13, "105", "child-of-missed\0"],
  ]);
  const { missed, askShell } = chooseFollowUps(SHELL_PID, before, later);
  expect({ missed: missed.sort((a, b) => a - b), askShell }).toEqual({ missed: [13, 14, 15], askShell: true });
});

test("after a program that caught or ignored the SIGINT has exited, what its shell starts next is left alone, as bash goes on", () => {
  const before = snapshot([
    [SHELL_PID, 1, "100", SHELL],
    [11, SHELL_PID, "101", "python3\0app.py\0", true],
    // A fork of the shell that had not yet exec'd: it loses the SIGINT whatever the program before it did.
    [12, SHELL_PID, "102", SHELL],
  ]);
  const later = now([
    [SHELL_PID, 1, "100", SHELL],
    [12, SHELL_PID, "102", "sleep\u0000100\0"],
    [13, SHELL_PID, "103", "make\0"],
  ]);
  expect(chooseFollowUps(SHELL_PID, before, later)).toEqual({ missed: [12], askShell: false });
});

test("a background job that handles SIGINT and runs on does not stop the follow-up", () => {
  const before = snapshot([
    [SHELL_PID, 1, "100", SHELL],
    [11, SHELL_PID, "101", "node\0server.js\0", true],
    [12, SHELL_PID, "102", "cat\0"],
  ]);
  const later = now([
    [SHELL_PID, 1, "100", SHELL],
    [11, SHELL_PID, "101", "node\0server.js\0"],
    [13, SHELL_PID, "103", "sleep\u0000100\0"],
  ]);
  expect(chooseFollowUps(SHELL_PID, before, later)).toEqual({ missed: [13], askShell: true });
});

test("what a program starts after the SIGINT is its own, and nothing is asked when nothing missed it", () => {
  const before = snapshot([
    [SHELL_PID, 1, "100", SHELL],
    [11, SHELL_PID, "101", "bash\0-c\0script\0", true],
  ]);
  const later = now([
    [SHELL_PID, 1, "100", SHELL],
    [11, SHELL_PID, "101", "bash\0-c\0script\0"],
    [12, 11, "102", "sleep\u0000100\0"],
  ]);
  expect(chooseFollowUps(SHELL_PID, before, later)).toEqual({ missed: [], askShell: false });
});
