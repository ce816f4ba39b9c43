import type { Page } from "playwright-core";
import { createBinaryFrameReader } from "../../src/web/frame-reader.ts";

/** What the page received and acked of one exec's stdout, seen on the wire. */
interface ExecFlow {
  /** The end offset of the latest output chunk received. */
  receivedEnd: number;
  /** The latest offset the page acked. */
  acked: number;
  /** The most bytes ever received and not yet acked. */
  maxUnacked: number;
}

/** Watches a page's WebSocket frames: output chunks in, acks out. */
export interface OutputFlowWatch {
  /** The flow of one exec, by its id. */
  flow(id: string): ExecFlow | undefined;
  /** Resolves with the exec id once the page acks some exec at `offset` or beyond. */
  waitForAck(offset: number): Promise<string>;
}

/** Starts watching; call before the page opens its socket (Playwright reports new sockets only). */
export function watchOutputFlow(page: Page): OutputFlowWatch {
  const flows = new Map<string, ExecFlow>();
  const waiters: { offset: number; resolve: (id: string) => void }[] = [];
  const flowOf = (id: string) => {
    let flow = flows.get(id);
    if (!flow) flows.set(id, (flow = { receivedEnd: 0, acked: 0, maxUnacked: 0 }));
    return flow;
  };
  page.on("websocket", (socket) => {
    const frames = createBinaryFrameReader();
    socket.on("framereceived", ({ payload }) => {
      if (typeof payload === "string") return;
      const chunk = frames.read(new Uint8Array(payload));
      if (!chunk || chunk.stream !== "stdout") return;
      const flow = flowOf(chunk.id);
      flow.receivedEnd = Math.max(flow.receivedEnd, chunk.offset + chunk.bytes.byteLength);
      flow.maxUnacked = Math.max(flow.maxUnacked, flow.receivedEnd - flow.acked);
    });
    socket.on("framesent", ({ payload }) => {
      if (typeof payload !== "string") return;
      const message = JSON.parse(payload) as { type?: string; id?: string; offset?: number };
      if (message.type !== "ack" || message.id === undefined || message.offset === undefined) return;
      const { id, offset } = message;
      flowOf(id).acked = Math.max(flowOf(id).acked, offset);
      for (const waiter of waiters.filter((candidate) => offset >= candidate.offset)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(id);
      }
    });
  });
  return {
    flow: (id) => flows.get(id),
    waitForAck: (offset) => new Promise((resolve) => waiters.push({ offset, resolve })),
  };
}
