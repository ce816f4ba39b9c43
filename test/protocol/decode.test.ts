import { expect, test } from "bun:test";
import { CLIENT_MESSAGE_TYPES, decodeClientMessage, decodeServerMessage } from "../../src/protocol/index.ts";

test("a valid exec decodes, with unknown fields dropped for forward compatibility", () => {
  expect(decodeClientMessage(JSON.stringify({ type: "exec", id: "a", argv: ["ls"], future: 1 }))).toEqual({
    ok: true,
    message: { type: "exec", id: "a", argv: ["ls"] },
  });
});

test("problems name the field and keep the id when one is readable", () => {
  expect(decodeClientMessage(JSON.stringify({ type: "exec", id: "a", cmd: "ls", encoding: "hex" }))).toEqual({
    ok: false,
    id: "a",
    problem: 'encoding: must be "utf8", "base64" or "binary"',
  });
  expect(decodeClientMessage(JSON.stringify({ type: "stdin", id: "a", data: 5 }))).toEqual({
    ok: false,
    id: "a",
    problem: "data: expected string, got 5",
  });
  expect(decodeClientMessage('{"type":7}')).toEqual({ ok: false, problem: `type: must be a string, got number; expected one of ${CLIENT_MESSAGE_TYPES.join(", ")}` });
  expect(decodeClientMessage('{"id":"x"}')).toEqual({ ok: false, id: "x", problem: `type: is required; expected one of ${CLIENT_MESSAGE_TYPES.join(", ")}` });
});

test("a deeply nested value is refused without throwing", () => {
  const deep = "[".repeat(5000) + "]".repeat(5000);
  expect(decodeClientMessage(`{"type":"exec","id":"d","argv":${deep}}`).ok).toBe(false);
});

test("server messages are validated for clients", () => {
  expect(decodeServerMessage(JSON.stringify({ type: "exit", id: "a", code: 0, signal: null, reason: "exited", durationMs: 3 })).ok).toBe(true);
  expect(decodeServerMessage(JSON.stringify({ type: "exit", id: "a", code: 0, signal: null, reason: "vanished", durationMs: 3 })).ok).toBe(false);
});

test("env must be an object of strings: an array, or a name JavaScript reserves, is refused rather than read oddly or dropped", () => {
  const decode = (env: string) => decodeClientMessage(`{"type":"exec","id":"e","argv":["env"],"env":${env}}`);
  expect(decode('["A=1","B=2"]')).toEqual({ ok: false, id: "e", problem: "env: must be an object of name: value strings" });
  for (const name of ["__proto__", "constructor", "prototype"]) {
    expect(decode(`{${JSON.stringify(name)}:"x"}`)).toEqual({ ok: false, id: "e", problem: "env: names __proto__, constructor and prototype cannot be set" });
  }
  expect(decode('{"__proto__":{"PATH":"/evil"}}')).toMatchObject({ ok: false });
  expect(decode('{"A":"1"}')).toMatchObject({ ok: true, message: { env: { A: "1" } } });
});

test("an exec id is well-formed Unicode: a lone surrogate could not be matched in a binary frame's UTF-8 header", () => {
  expect(decodeClientMessage('{"type":"exec","id":"\\ud800","argv":["true"]}')).toMatchObject({ ok: false, problem: "id: must be well-formed Unicode (no lone surrogate)" });
  expect(decodeClientMessage(JSON.stringify({ type: "exec", id: "😀".repeat(32), argv: ["true"] }))).toMatchObject({ ok: true });
});

test("names that reach execve, the environment or the file system are well-formed Unicode: UTF-8 would put U+FFFD where a lone surrogate was", () => {
  const cases: [string, string][] = [
    ['{"type":"exec","id":"a","argv":["echo","\\ud800"]}', "argv[1]: must be well-formed Unicode (no lone surrogate)"],
    ['{"type":"exec","id":"a","cmd":"touch \\udc00x"}', "cmd: must be well-formed Unicode (no lone surrogate)"],
    ['{"type":"exec","id":"a","argv":["true"],"cwd":"d\\ud800"}', "cwd: must be well-formed Unicode (no lone surrogate)"],
    ['{"type":"exec","id":"a","argv":["true"],"env":{"V":"\\ud800"}}', "env.V: values must be well-formed Unicode (no lone surrogate)"],
    ['{"type":"exec","id":"a","argv":["true"],"env":{"\\ud800":"v"}}', "env.\ud800: names must be well-formed Unicode (no lone surrogate)"],
    ['{"type":"file.write","id":"w","path":"bad\\ud800.txt","data":"x"}', "path: must be well-formed Unicode (no lone surrogate)"],
    ['{"type":"file.move","id":"m","from":"a","to":"\\udfff"}', "to: must be well-formed Unicode (no lone surrogate)"],
  ];
  for (const [frame, problem] of cases) expect({ frame, decoded: decodeClientMessage(frame) }).toMatchObject({ frame, decoded: { ok: false, problem } });
  // A surrogate pair is one character, well-formed.
  expect(decodeClientMessage('{"type":"file.write","id":"w","path":"\\ud83d\\ude00.txt","data":"x"}')).toMatchObject({ ok: true });
});

/** A valid exec with one field changed. */
const exec = (fields: Record<string, unknown>) => ({ type: "exec", id: "b", argv: ["true"], ...fields });
const MIB = 1024 * 1024;

// Each bound docs/PROTOCOL.md states, at its edge: the last value accepted, and the first refused
// with bad_message naming the field.
const bounds: [string, Record<string, unknown>, string | true][] = [
  ["an exec id of 64 characters", exec({ id: "i".repeat(64) }), true],
  ["an exec id of 65 characters", exec({ id: "i".repeat(65) }), "id: must be 1 to 64 characters"],
  ["an empty exec id", exec({ id: "" }), "id: must be 1 to 64 characters"],
  ["argv of 4096 items", exec({ argv: Array(4096).fill("a") }), true],
  ["argv of 4097 items", exec({ argv: Array(4097).fill("a") }), "argv: must have at most 4096 items"],
  ["an empty argv", exec({ argv: [] }), "argv: must hold at least the program"],
  ["a NUL in argv", exec({ argv: ["a\0b"] }), "argv[0]: must not contain NUL"],
  ["argv of 4097 items, one with a NUL", exec({ argv: [...Array(4096).fill("a"), "a\0b"] }), "argv: must have at most 4096 items"],
  ["argv with a number", exec({ argv: ["echo", 1] }), "argv[1]: expected string, got 1"],
  ["argv that is a string", exec({ argv: "echo hi" }), 'argv: expected Array, got "echo hi"'],
  ["argv and cmd together", exec({ cmd: "true" }), "exec needs exactly one of argv and cmd"],
  ["an empty cmd", { type: "exec", id: "b", cmd: "" }, "cmd: must not be empty"],
  ["a cwd of 4096 characters", exec({ cwd: "c".repeat(4096) }), true],
  ["a cwd of 4097 characters", exec({ cwd: "c".repeat(4097) }), "cwd: must be at most 4096 characters"],
  ["env of 1024 entries", exec({ env: Object.fromEntries(Array.from({ length: 1024 }, (_, i) => [`V${i}`, ""])) }), true],
  ["env of 1025 entries", exec({ env: Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`V${i}`, ""])) }), "env: must have at most 1024 entries"],
  ["an env name with =", exec({ env: { "A=B": "x" } }), "env.A=B: names must be non-empty and hold neither '=' nor NUL"],
  // Counted before the entries are checked one by one: an oversized list is refused for its size,
  // whatever its entries hold, without a regex per entry (see EnvSchema).
  ["env of 1025 entries, one with =", exec({ env: Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [i === 1000 ? "A=B" : `V${i}`, ""])) }), "env: must have at most 1024 entries"],
  ["timeoutMs 0", exec({ timeoutMs: 0 }), true],
  ["timeoutMs 2147483647", exec({ timeoutMs: 2147483647 }), true],
  ["timeoutMs 2147483648", exec({ timeoutMs: 2147483648 }), "timeoutMs: must be <= 2147483647"],
  ["timeoutMs -1", exec({ timeoutMs: -1 }), "timeoutMs: must be >= 0"],
  ["timeoutMs 1.5", exec({ timeoutMs: 1.5 }), "timeoutMs: must be an integer"],
  ["maxOutputBytes 1", exec({ maxOutputBytes: 1 }), true],
  ["maxOutputBytes 0", exec({ maxOutputBytes: 0 }), "maxOutputBytes: must be >= 1"],
  ["maxOutputBytes 2^53", exec({ maxOutputBytes: 2 ** 53 }), "maxOutputBytes: must be an integer"],
  ["a pty of 1 x 1000", exec({ pty: { cols: 1, rows: 1000 } }), true],
  ["a pty 1001 columns wide", exec({ pty: { cols: 1001, rows: 24 } }), "pty.cols: must be <= 1000"],
  ["a pty 0 rows high", exec({ pty: { cols: 80, rows: 0 } }), "pty.rows: must be >= 1"],
  ["an exec ackWindowBytes of 64 MiB", exec({ ackWindowBytes: 64 * MIB }), true],
  ["an exec ackWindowBytes past 64 MiB", exec({ ackWindowBytes: 64 * MIB + 1 }), "ackWindowBytes: must be <= 67108864"],
  ["an exec ackWindowBytes of 0", exec({ ackWindowBytes: 0 }), "ackWindowBytes: must be >= 1"],
  ["a shell name of 64 characters", { type: "exec", id: "b", cmd: "true", shell: "s".repeat(64) }, true],
  ["a shell name of 65 characters", { type: "exec", id: "b", cmd: "true", shell: "s".repeat(65) }, "shell: must be 1 to 64 of A-Z a-z 0-9 . _ -"],
  ["a shell with argv", exec({ shell: "s" }), "shell: a shell runs `cmd`, not `argv`"],
  ["a shell with a pty", { type: "exec", id: "b", cmd: "true", shell: "s", pty: { cols: 80, rows: 24 } }, "shell: a persistent shell has no pty of its own"],
  ["an rlimit of 0", exec({ rlimits: { openFiles: 0 } }), "rlimits.openFiles: must be >= 1"],
  ["stdin with neither data nor eof nor credit", { type: "stdin", id: "b" }, "stdin needs data, eof: true or credit: true"],
  ["stdin with only credit", { type: "stdin", id: "b", credit: true }, true],
  ["stdin with credit: false alone", { type: "stdin", id: "b", credit: false }, "stdin needs data, eof: true or credit: true"],
  ["stdin in hex", { type: "stdin", id: "b", data: "00", encoding: "hex" }, 'encoding: must be "utf8" or "base64"'],
  ["stdin with only eof", { type: "stdin", id: "b", eof: true }, true],
  ["a signal not on the list", { type: "signal", id: "b", signal: "SIGTSTP" }, "signal: must be one of SIGINT, SIGTERM, SIGKILL, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGSTOP, SIGCONT"],
  ["a resize to 1000 x 1000", { type: "resize", id: "b", cols: 1000, rows: 1000 }, true],
  ["a resize to 0 columns", { type: "resize", id: "b", cols: 0, rows: 24 }, "cols: must be >= 1"],
  ["an attach offset of -1", { type: "attach", id: "b", offsets: { stdout: -1 } }, "offsets.stdout: must be >= 0"],
  ["an attach ackWindowBytes of 64 MiB", { type: "attach", id: "b", ackWindowBytes: 64 * MIB }, true],
  ["an attach ackWindowBytes past 64 MiB", { type: "attach", id: "b", ackWindowBytes: 64 * MIB + 1 }, "ackWindowBytes: must be <= 67108864"],
  ["an ack of a third stream", { type: "ack", id: "b", stream: "both", offset: 0 }, 'stream: must be "stdout" or "stderr"'],
  ["an ack without offset", { type: "ack", id: "b" }, "offset: is required"],
  ["a list id of 65 characters", { type: "list", id: "l".repeat(65) }, "id: must be 1 to 64 characters"],
  ["a list without id", { type: "list" }, true],
  ["a file path of 4097 characters", { type: "file.stat", id: "f", path: "p".repeat(4097) }, "path: must be at most 4096 characters"],
  ["a file.list depth of 64", { type: "file.list", id: "f", path: "", depth: 64 }, true],
  ["a file.list depth of 65", { type: "file.list", id: "f", path: "", depth: 65 }, "depth: must be <= 64"],
  ["a file mode of 4096", { type: "file.write", id: "f", path: "a", data: "", mode: 4096 }, "mode: must be <= 4095 (0o7777)"],
  ["a file.upload with ifExists append", { type: "file.upload", id: "f", path: "a", ifExists: "append" }, 'ifExists: must be "overwrite" or "fail"'],
];

test.each(bounds)("the documented bound holds: %s", (_what, message, expected) => {
  const decoded = decodeClientMessage(JSON.stringify(message));
  if (expected === true) return expect(decoded).toMatchObject({ ok: true });
  // The reply echoes an id only when it is readable: 1 to 64 characters.
  const id = String(message["id"]);
  expect(decoded).toEqual({ ok: false, ...(id.length >= 1 && id.length <= 64 && { id }), problem: expected });
});

test("an object field given as an array is refused, not read as an object of keys 0, 1, ...", () => {
  const exec = (field: string) => decodeClientMessage(`{"type":"exec","id":"a","argv":["true"],${field}}`);
  // An array passed for rlimits set no limit at all, and offsets [5] replayed from 0.
  expect(exec('"rlimits":["cpuSeconds",5]')).toEqual({ ok: false, id: "a", problem: "rlimits: must be an object of limit names and numbers" });
  expect(exec('"rlimits":[]')).toMatchObject({ ok: false, problem: "rlimits: must be an object of limit names and numbers" });
  expect(exec('"pty":[80,24]')).toEqual({ ok: false, id: "a", problem: "pty: must be an object of cols and rows" });
  expect(decodeClientMessage('{"type":"attach","id":"a","offsets":[5]}')).toEqual({ ok: false, id: "a", problem: "offsets: must be an object of stdout and stderr offsets" });
  expect(exec('"rlimits":{"cpuSeconds":5},"pty":{"cols":80,"rows":24}')).toMatchObject({ ok: true, message: { rlimits: { cpuSeconds: 5 }, pty: { cols: 80, rows: 24 } } });
  expect(decodeClientMessage('{"type":"attach","id":"a","offsets":{"stdout":5}}')).toMatchObject({ ok: true, message: { offsets: { stdout: 5 } } });
});

test("a reply names the field without quoting a huge key of the client's back to it", () => {
  const name = "A".repeat(500_000);
  const result = decodeClientMessage(JSON.stringify({ type: "exec", id: "a", cmd: "x", env: { [name]: 1 } }));
  expect(result).toEqual({ ok: false, id: "a", problem: `env.${"A".repeat(61)}...: values must be strings` });
});

test("a frame of more values than any message holds is refused before JSON.parse, and the largest real message is not", () => {
  // ~35 ms of JSON.parse each in 1 MiB: under the message rate limit one socket held the event loop.
  expect(decodeClientMessage(`{"type":"ping","x":[${"{},".repeat(20_000)}{}]}`)).toEqual({
    ok: false,
    problem: "the frame holds more than 16384 values (counting its commas, colons, arrays and objects)",
  });
  const keys = Object.fromEntries(Array.from({ length: 20_000 }, (_, index) => [`k${index}`, 1]));
  expect(decodeClientMessage(JSON.stringify({ type: "ping", ...keys })).ok).toBe(false);
  // Commas and colons inside strings are text, not values.
  expect(decodeClientMessage(JSON.stringify({ type: "ping", id: "p", note: ",:[{".repeat(50_000) }))).toMatchObject({ ok: true });
  const env = Object.fromEntries(Array.from({ length: 1024 }, (_, index) => [`V${index}`, "a,b:c"]));
  const largest = { type: "exec", id: "big", argv: Array.from({ length: 4096 }, (_, index) => `arg${index}`), env, rlimits: { cpuSeconds: 5 }, pty: { cols: 80, rows: 24 } };
  expect(decodeClientMessage(JSON.stringify(largest))).toMatchObject({ ok: true });
});
