/** A page of another site that puts `target` in a frame, as a clickjacking page does. */
export interface FramingPage extends AsyncDisposable {
  /** The page's address: `localhost`, another site than the `127.0.0.1` the tests open bunker at. */
  readonly url: string;
}

/** Serves the framing page on loopback, port 0. */
export function serveFramingPage(target: string): FramingPage {
  const html = `<!doctype html><title>framing</title><iframe src="${target.replaceAll('"', "&quot;")}" width="800" height="500"></iframe>`;
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(html, { headers: { "content-type": "text/html;charset=utf-8" } }) });
  return {
    url: `http://localhost:${server.port}/`,
    [Symbol.asyncDispose]: () => server.stop(true),
  };
}
