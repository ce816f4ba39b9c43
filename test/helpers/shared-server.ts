/**
 * One server and one client for a describe block: started before its first test, stopped after its
 * last. The getters throw if a test runs before beforeAll has (which bun:test never does).
 */
import { afterAll, beforeAll } from "bun:test";
import { connect, type TestClient } from "./client.ts";
import { startServer, type StartServerOptions, type TestServer } from "./server-process.ts";

export interface SharedServer {
  readonly server: TestServer;
  readonly client: TestClient;
}

export function useSharedServer(options: StartServerOptions = {}): SharedServer {
  let server: TestServer | undefined;
  let client: TestClient | undefined;
  beforeAll(async () => {
    server = await startServer(options);
    client = await connect(server);
  });
  afterAll(async () => {
    await client?.[Symbol.asyncDispose]();
    await server?.[Symbol.asyncDispose]();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the shared server starts in beforeAll");
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get client() {
      return started(client);
    },
  };
}
