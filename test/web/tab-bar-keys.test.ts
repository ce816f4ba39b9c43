import { describe, expect, test } from "bun:test";
import { isTabBarShortcut, tabKeyAction } from "../../src/web/tab-bar-keys.ts";
import { keyEvent } from "./key-event.ts";

const key = keyEvent;

describe("isTabBarShortcut", () => {
  test("takes Ctrl+Shift+L, which xterm.js sends nothing for", () => {
    expect(isTabBarShortcut(key("KeyL", { ctrl: true, shift: true }))).toBe(true);
  });

  test("leaves Ctrl+L (clear screen), Tab, F6 and Ctrl+Alt+Shift+L to the terminal", () => {
    expect(isTabBarShortcut(key("KeyL", { ctrl: true }))).toBe(false);
    expect(isTabBarShortcut(key("Tab"))).toBe(false);
    expect(isTabBarShortcut(key("F6"))).toBe(false);
    expect(isTabBarShortcut(key("KeyL", { ctrl: true, shift: true, alt: true }))).toBe(false);
    expect(isTabBarShortcut(key("KeyL", { ctrl: true, shift: true, meta: true }))).toBe(false);
  });
});

describe("tabKeyAction", () => {
  test("moves with the arrows, wrapping at both ends, and to the ends with Home and End", () => {
    expect([0, 1, 2].map((index) => tabKeyAction("ArrowRight", index, 3))).toEqual([
      { kind: "move", to: 1 },
      { kind: "move", to: 2 },
      { kind: "move", to: 0 },
    ]);
    expect([0, 1, 2].map((index) => tabKeyAction("ArrowLeft", index, 3))).toEqual([
      { kind: "move", to: 2 },
      { kind: "move", to: 0 },
      { kind: "move", to: 1 },
    ]);
    expect(tabKeyAction("Home", 2, 3)).toEqual({ kind: "move", to: 0 });
    expect(tabKeyAction("End", 0, 3)).toEqual({ kind: "move", to: 2 });
  });

  test("closes with Delete and leaves every other key (Enter and Space click the tab) alone", () => {
    expect(tabKeyAction("Delete", 1, 3)).toEqual({ kind: "close" });
    expect(["Enter", " ", "Tab", "Escape", "ArrowUp", "a"].map((name) => tabKeyAction(name, 0, 3))).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});
