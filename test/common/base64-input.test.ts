import { expect, test } from "bun:test";
import { decodeBase64Input } from "../../src/common/base64-input.ts";

test("base64 with padding only at its end decodes as before, leniently", () => {
  expect(decodeBase64Input("YQ==", "data")).toEqual({ ok: true, bytes: Buffer.from("a") });
  expect(decodeBase64Input("YWJj\nZGVm\n", "data")).toEqual({ ok: true, bytes: Buffer.from("abcdef") });
  expect(decodeBase64Input("YQ==\r\n", "data")).toEqual({ ok: true, bytes: Buffer.from("a") });
  expect(decodeBase64Input("", "data")).toEqual({ ok: true, bytes: Buffer.alloc(0) });
});

test("padding before more of the alphabet (chunks joined after encoding) is refused: Buffer.from stops at the first '='", () => {
  for (const text of ["YQ==YQ==", "YQ=YQ", "YQ==-_", "YQ==\nYg=="]) {
    expect(decodeBase64Input(text, "data")).toMatchObject({ ok: false, problem: expect.stringMatching(/^data: base64 padding \('=' at \d+\) comes before the end/) });
  }
});
