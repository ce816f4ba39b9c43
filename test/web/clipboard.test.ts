import { describe, expect, test } from "bun:test";
import { isCopyShortcut } from "../../src/web/clipboard.ts";
import { keyEvent } from "./key-event.ts";

const key = keyEvent;

describe("isCopyShortcut", () => {
  test("takes Ctrl+Shift+C and Ctrl+Insert, a terminal's copy keys on Linux and Windows", () => {
    expect(isCopyShortcut(key("KeyC", { ctrl: true, shift: true }))).toBe(true);
    expect(isCopyShortcut(key("Insert", { ctrl: true }))).toBe(true);
  });

  test("leaves Ctrl+C (an interrupt), Shift+Insert (a paste) and Ctrl+Alt+Shift+C to the terminal", () => {
    expect(isCopyShortcut(key("KeyC", { ctrl: true }))).toBe(false);
    expect(isCopyShortcut(key("Insert", { shift: true }))).toBe(false);
    expect(isCopyShortcut(key("KeyC", { ctrl: true, shift: true, alt: true }))).toBe(false);
    expect(isCopyShortcut(key("KeyV", { ctrl: true, shift: true }))).toBe(false);
  });
});
