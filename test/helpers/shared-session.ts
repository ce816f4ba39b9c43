/**
 * One server and one client-library session for a test file or describe block: started before its
 * first test, ended after its last (the session with `close`, so its workspace goes too).
 */
import { afterAll, beforeAll } from "bun:test";
import { connect, type Session } from "../../src/client/index.ts";
import { startServer, type StartServerOptions, type TestServer } from "./server-process.ts";

export interface SharedSession {
  readonly server: TestServer;
  readonly session: Session;
}

export function useSharedSession(options: StartServerOptions = {}): SharedSession {
  let server: TestServer | undefined;
  let session: Session | undefined;
  beforeAll(async () => {
    server = await startServer(options);
    session = await connect(server.url, { token: server.token! });
  });
  afterAll(async () => {
    await session?.close();
    await server?.[Symbol.asyncDispose]();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the shared session starts in beforeAll");
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get session() {
      return started(session);
    },
  };
}
