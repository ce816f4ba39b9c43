import terminalPage from "./index.html";

/**
 * The terminal page, for `Bun.serve({ routes: { "/": terminalPage } })`. Bun bundles it (xterm.js
 * and all) when it builds the binary and serves it from memory, so nothing is read from disk.
 */
export { terminalPage };
