import { expect, test } from "bun:test";
import { parseFlags, type FlagSpecs } from "../../src/cli/parse-flags.ts";
import { UsageError } from "../../src/cli/usage-error.ts";

const SPECS = {
  port: { type: "string" },
  token: { type: "string" },
  "no-auth": { type: "boolean" },
  env: { type: "string", short: "e", multiple: true },
  tty: { type: "boolean", short: "t" },
  stdin: { type: "boolean", short: "i" },
  help: { type: "boolean", short: "h" },
} as const satisfies FlagSpecs;

test("reads values in both forms, switches, one-letter groups and repeated flags, as parseArgs does", () => {
  expect(parseFlags(["--port", "80", "--token=abc", "--no-auth", "-ti", "-e", "A=1", "-eB=2", "--env", "C=3"], SPECS)).toEqual({
    port: "80",
    token: "abc",
    "no-auth": true,
    tty: true,
    stdin: true,
    env: ["A=1", "B=2", "C=3"],
  });
  expect(parseFlags(["-te", "K=V"], SPECS)).toEqual({ tty: true, env: ["K=V"] });
  expect(parseFlags(["--port", "1", "--port", "2"], SPECS)).toEqual({ port: "2" });
  expect(parseFlags([], SPECS)).toEqual({});
});

test("a switch with multiple counts how many times it came, in any form", () => {
  const specs = { ...SPECS, tty: { type: "boolean", short: "t", multiple: true } } as const satisfies FlagSpecs;
  expect(parseFlags(["-t"], specs)).toEqual({ tty: 1 });
  expect(parseFlags(["-tt", "--tty", "-it"], specs)).toEqual({ tty: 4, stdin: true });
});

test("a value may start with a dash, unless it is one of the command's flags", () => {
  expect(parseFlags(["--port", "-1", "--token", "-secret-", "-e", "-x"], SPECS)).toEqual({ port: "-1", token: "-secret-", env: ["-x"] });
  expect(() => parseFlags(["--token", "--port", "80"], SPECS)).toThrow(new UsageError('--token needs a value, but "--port" follows it; write --token=--port if that is the value'));
  // What follows may be the value itself, a secret: only the flag's name is shown.
  expect(() => parseFlags(["--token", "-hSECRET"], SPECS)).toThrow(new UsageError('--token needs a value, but "-h…" follows it (the rest not shown); write --token=-h… as one argument if that is the value'));
});

test("misuse is a UsageError with parseArgs's sentence", () => {
  expect(() => parseFlags(["--bogus"], SPECS)).toThrow(new UsageError("Unknown option '--bogus'"));
  expect(() => parseFlags(["-x"], SPECS)).toThrow(new UsageError("Unknown option '-x'"));
  expect(() => parseFlags(["--no-auth=yes"], SPECS)).toThrow(new UsageError("Option '--no-auth' does not take an argument"));
  expect(() => parseFlags(["--port"], SPECS)).toThrow(new UsageError("Option '--port <value>' argument missing"));
  expect(() => parseFlags(["-e"], SPECS)).toThrow(new UsageError("Option '-e, --env <value>' argument missing"));
  expect(() => parseFlags(["serve"], SPECS)).toThrow(new UsageError("Unexpected argument 'serve'. This command does not take positional arguments"));
  expect(() => parseFlags(["--", "x"], SPECS)).toThrow(new UsageError("Unexpected argument 'x'. This command does not take positional arguments"));
  expect(() => parseFlags(["--__proto__"], SPECS)).toThrow(new UsageError("Unknown option '--__proto__'"));
});
