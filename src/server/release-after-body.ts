/**
 * Calls `release` once the response's body has been sent to the end, or broke off (cancelled by a
 * client that went away, or failed while read). Returns a response to send in place of the one
 * given. A response without a body is released at once.
 */
export function releaseAfterBody(response: Response, release: () => void): Response {
  const body = response.body;
  if (body === null) {
    release();
    return response;
  }
  const reader = body.getReader();
  const passedOn = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await reader.read();
          if (next.done) {
            release();
            controller.close();
          } else {
            controller.enqueue(next.value);
          }
        } catch (error) {
          release();
          controller.error(error);
        }
      },
      async cancel(reason) {
        release();
        await reader.cancel(reason);
      },
    },
    // Read from the file only as the client takes it, as the body given does (see file-http.ts).
    { highWaterMark: 0 },
  );
  return new Response(passedOn, { status: response.status, statusText: response.statusText, headers: response.headers });
}
