/**
 * Protocol constants that code outside the protocol needs before any schema: the server's settings
 * import them at startup, and the schemas (valibot) load later, while the sandbox probe runs.
 */

/** Larger than any real timer needs, small enough for setTimeout (which overflows past 2^31-1 ms). */
export const MAX_TIMEOUT_MS = 2_147_483_647;
