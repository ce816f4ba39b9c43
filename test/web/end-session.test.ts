import { describe, expect, test } from "bun:test";
import { endSessionQuestion, needsEndConfirmation } from "../../src/web/end-session.ts";

describe("needsEndConfirmation", () => {
  test("asks while a shell starts or runs, connected or cut off", () => {
    for (const connection of ["open", "connecting", "reconnecting"] as const) {
      expect([needsEndConfirmation({ connection, shell: "starting" }), needsEndConfirmation({ connection, shell: "running" })]).toEqual([true, true]);
    }
  });

  test("asks for a connected session whose shell has exited: its workspace would go with it", () => {
    expect(needsEndConfirmation({ connection: "open", shell: "exited" })).toBe(true);
  });

  test("closes at once a tab without a session, a closed one, or one whose shell exited while it is cut off", () => {
    expect(needsEndConfirmation({ connection: "connecting", shell: undefined })).toBe(false);
    expect(needsEndConfirmation({ connection: "reconnecting", shell: undefined })).toBe(false);
    expect(needsEndConfirmation({ connection: "reconnecting", shell: "exited" })).toBe(false);
    expect(needsEndConfirmation({ connection: "closed", shell: "running" })).toBe(false);
  });
});

describe("endSessionQuestion", () => {
  test("says what is lost: the running shell, or the session", () => {
    expect(endSessionQuestion(2, { connection: "open", shell: "running" })).toBe(
      "End session 2? Its shell and whatever runs in it are killed, and its workspace is deleted unless the server keeps workspaces.",
    );
    expect(endSessionQuestion(3, { connection: "open", shell: "exited" })).toBe(
      "End session 3? It cannot be resumed, and its workspace is deleted unless the server keeps workspaces.",
    );
  });

  test("says that a session the page is not connected to ends once it is again", () => {
    for (const connection of ["connecting", "reconnecting"] as const) {
      expect(endSessionQuestion(4, { connection, shell: "running" })).toBe(
        "End session 4? The page is not connected to the server: as soon as it is again, the session's shell and whatever runs in it are killed, and its workspace is deleted unless the server keeps workspaces.",
      );
    }
  });
});
