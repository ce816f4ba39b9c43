import { describe, expect, test } from "bun:test";
import { explainConnectFailure } from "../../src/web/connect-failure.ts";

const answers = (status: number) => () => Promise.resolve(status);
const silent = () => Promise.reject(new TypeError("Failed to fetch"));

describe("explainConnectFailure", () => {
  test("blames the token when the server answers its health check but refused the socket", async () => {
    expect(await explainConnectFailure(answers(200), "token")).toBe("the server refused this page's token; open the address the server printed, which ends in #token=…");
  });

  test("asks for the printed address when the page has no token", async () => {
    expect(await explainConnectFailure(answers(200), "none")).toBe("the server wants a token; open the address the server printed, which ends in #token=…");
  });

  test("says the server is shutting down when its health check answers 503", async () => {
    expect(await explainConnectFailure(answers(503), "token")).toBe("the server is shutting down");
  });

  test("says the server does not answer when the health check fails, token or not", async () => {
    expect(await explainConnectFailure(silent, "token")).toBe("the server does not answer (it is down, or out of reach)");
    expect(await explainConnectFailure(silent, "none")).toBe("the server does not answer (it is down, or out of reach)");
  });

  test("blames limits or the origin for a viewer, which offers no token", async () => {
    expect(await explainConnectFailure(answers(200), "view")).toBe("the server refused the connection (too many connections, or this page's address is not an allowed origin)");
    expect(await explainConnectFailure(silent, "view")).toBe("the server does not answer (it is down, or out of reach)");
  });
});
