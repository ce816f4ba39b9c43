import terminalPage from "./index.html";

/**
 * The terminal page, as an HTML import: `bun build --compile` bundles it (xterm.js and all) into the
 * binary, which serves it from memory, so nothing is read from disk; from source the server bundles
 * it on its first request (src/server/page-files.ts).
 */
export { terminalPage };
