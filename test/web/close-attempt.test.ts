// One try of the page to end a session it could not end when its tab closed (src/web/close-attempt.ts),
// against a real server, over a socket opened as the page opens it.
import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { closeSessionOnce } from "../../src/web/close-attempt.ts";
import { connect } from "../helpers/client.ts";
import { listenOnLoopback } from "../helpers/listen-loopback.ts";
import { useSharedServer } from "../helpers/shared-server.ts";

const shared = useSharedServer();
const pageOf = (port: number) => ({ protocol: "http:", host: `127.0.0.1:${port}` });

describe("closeSessionOnce", () => {
  test("resumes the session, ends it with its running command, and the server then refuses a resume", async () => {
    const { server } = shared;
    const owner = await connect(server);
    owner.send({ type: "exec", id: "sleeper", cmd: "sleep 600" });
    await owner.next((message) => message.type === "started");
    const target = { session: owner.hello.session, resumeSecret: owner.hello.resumeSecret! };
    expect(await closeSessionOnce(pageOf(server.port), server.token, target)).toBe("ended");
    // The owner's socket is closed with the session.
    expect((await owner.closed).code).toBe(4000);
    const refused = await connect(server, { query: { session: target.session }, protocols: ["bunker.v1", `bunker.resume.${target.resumeSecret}`], waitForHello: false });
    expect(await refused.next()).toMatchObject({ type: "error", code: "unknown_session" });
  });

  test("finds a session the server no longer has, or with a wrong secret, gone", async () => {
    const { server } = shared;
    const owner = await connect(server);
    const page = pageOf(server.port);
    expect(await closeSessionOnce(page, server.token, { session: "no-such-session", resumeSecret: "x" })).toBe("gone");
    expect(await closeSessionOnce(page, server.token, { session: owner.hello.session, resumeSecret: "not-the-secret" })).toBe("gone");
    await owner[Symbol.asyncDispose]();
  });

  test("finds a server that does not answer unreachable", async () => {
    // A port that accepts and drops every connection, as a relay of a network that is down.
    const refusing = createServer((socket) => socket.destroy());
    const port = await listenOnLoopback(refusing);
    try {
      expect(await closeSessionOnce(pageOf(port), shared.server.token, { session: "s1", resumeSecret: "r1" })).toBe("unreachable");
    } finally {
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });
});
