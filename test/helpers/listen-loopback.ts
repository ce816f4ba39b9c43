import type { Server } from "node:net";

/** Starts `server` on a free loopback port and returns the port (the proxies' common start). */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no TCP address");
  return address.port;
}
