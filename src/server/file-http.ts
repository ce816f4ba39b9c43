// STUB, to be replaced by the files work (issue 5).

/** The session a file request over HTTP acts on, already authenticated and looked up. */
export interface HttpFileTarget {
  readonly workspace: string;
  readonly owner: { uid: number; gid: number } | undefined;
  readonly quotaBytes: number | undefined;
}

/**
 * Serves `GET` (download) and `PUT` (upload) of `relativePath` in the target's workspace.
 * `relativePath` is the URL path after `/files/`, percent-decoded.
 */
export async function handleFileHttp(request: Request, relativePath: string, target: HttpFileTarget): Promise<Response> {
  void request;
  void relativePath;
  void target;
  return new Response("not implemented\n", { status: 501 });
}
