import { describe, expect, test } from "bun:test";
import { buildSocketUrl, buildSubprotocols, buildViewerSubprotocols, pageDirectory } from "../../src/web/socket-url.ts";

describe("buildSocketUrl", () => {
  test("points at /ws on the page's own host, ws for http and wss for https", () => {
    expect(buildSocketUrl({ protocol: "http:", host: "127.0.0.1:7681" })).toBe("ws://127.0.0.1:7681/ws");
    expect(buildSocketUrl({ protocol: "https:", host: "bunker.example" })).toBe("wss://bunker.example/ws");
  });

  test("names the session to resume in the query, encoded", () => {
    expect(buildSocketUrl({ protocol: "http:", host: "h:1" }, "a-b_c+d")).toBe("ws://h:1/ws?session=a-b_c%2Bd");
    expect(buildSocketUrl({ protocol: "http:", host: "h:1" }, undefined, "NewId_-1")).toBe("ws://h:1/ws?session=NewId_-1&create=1");
    expect(buildSocketUrl({ protocol: "http:", host: "h:1" }, "old", "NewId")).toBe("ws://h:1/ws?session=old");
  });

  test("names the socket a resume replaces, and only on a resume", () => {
    expect(buildSocketUrl({ protocol: "http:", host: "h:1" }, "old", "NewId", "conn_-1")).toBe("ws://h:1/ws?session=old&replaces=conn_-1");
    expect(buildSocketUrl({ protocol: "http:", host: "h:1" }, undefined, "NewId", "conn_-1")).toBe("ws://h:1/ws?session=NewId&create=1");
  });

  test("asks for the socket beside the page: under a proxy's path, in that path", () => {
    expect(buildSocketUrl({ protocol: "https:", host: "h", pathname: "/bunker/" })).toBe("wss://h/bunker/ws");
    expect(buildSocketUrl({ protocol: "https:", host: "h", pathname: "/a/b/index.html" })).toBe("wss://h/a/b/ws");
    expect(buildSocketUrl({ protocol: "http:", host: "h:1", pathname: "/" })).toBe("ws://h:1/ws");
    expect(pageDirectory({ protocol: "http:", host: "h", pathname: "" })).toBe("/");
  });

  test("asks for the page's detach TTL, on a new session and on a resume", () => {
    expect(buildSocketUrl({ protocol: "http:", host: "h:1" }, undefined, "NewId", undefined, 120_000)).toBe("ws://h:1/ws?session=NewId&create=1&detachTtlMs=120000");
    expect(buildSocketUrl({ protocol: "http:", host: "h:1" }, "old", "NewId", "c", 120_000)).toBe("ws://h:1/ws?session=old&replaces=c&detachTtlMs=120000");
    expect(buildSocketUrl({ protocol: "http:", host: "h:1" }, undefined, undefined, undefined, 5000)).toBe("ws://h:1/ws?detachTtlMs=5000");
  });
});

describe("buildSubprotocols", () => {
  test("offers bunker.v1 first, then the token, then the resume secret", () => {
    expect(buildSubprotocols("tok", "secret")).toEqual(["bunker.v1", "bunker.token.tok", "bunker.resume.secret"]);
  });

  test("offers only bunker.v1 without a token (a --no-auth server) or a session to resume", () => {
    expect(buildSubprotocols(undefined)).toEqual(["bunker.v1"]);
  });
});

describe("buildViewerSubprotocols", () => {
  test("offers bunker.v1 and the view secret, and no token", () => {
    expect(buildViewerSubprotocols("view-secret")).toEqual(["bunker.v1", "bunker.view.view-secret"]);
  });
});
