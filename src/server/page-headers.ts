/**
 * The Content-Security-Policy of the terminal page (and of the viewer page, the same page with
 * `#view=`). The page holds the server's token, or a view secret, in sessionStorage, and writes
 * bytes that commands print into xterm.js: should any of them ever reach the DOM as markup, this
 * keeps it from running script, loading anything, or sending what it read anywhere. Every source is
 * `'self'` or nothing, never a named origin: behind a reverse proxy (TLS, a path of its own) the
 * browser's origin is the proxy's, and `'self'` follows it with no header to trust.
 */
export const PAGE_CONTENT_SECURITY_POLICY = [
  // Whatever a directive below does not name, nothing.
  "default-src 'none'",
  // The bundled module only: no inline script, no eval (the bundle needs neither).
  "script-src 'self'",
  // The page's socket and GET healthz. CSP3's 'self' takes ws: and wss: of the page's own host and
  // port (wss: only, on an https: page), so no origin is named here (Chromium: test/web/page.test.ts,
  // through TLS: test/deploy/nginx-page.test.ts).
  "connect-src 'self'",
  // The stylesheet, and 'unsafe-inline' for xterm.js: its DOM renderer writes its theme and cell
  // size into <style> elements it creates, and colours a cell of 24-bit colour through its style
  // attribute. A style cannot run script, and with img-src and font-src closed it cannot send a
  // thing off the page either.
  "style-src 'self' 'unsafe-inline'",
  // The empty `data:,` favicon (index.html), which keeps the browser from asking for /favicon.ico.
  "img-src data:",
  "object-src 'none'",
  "base-uri 'none'",
  // Nothing is posted: the End session dialog's form is `method="dialog"`, which submits nowhere.
  "form-action 'none'",
  // No page of any origin, this one's included, may frame a terminal (clickjacking keystrokes into
  // a shell); X-Frame-Options below says the same to browsers that predate frame-ancestors.
  "frame-ancestors 'none'",
  // Trusted Types: no DOM sink that parses a string as markup or script (innerHTML, a script's
  // text or src, DOMParser, document.write, eval) takes one. The page builds its DOM with
  // createElement and textContent, and so does xterm.js 6 (its bundle has none of those sinks, and
  // Chromium reports no violation in any page test), so it needs no policy: 'none' lets no script
  // make one through which markup could be passed off as trusted.
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

/**
 * The powerful features the page does not use, denied to it (Permissions-Policy): were a script
 * ever to run in it, it could ask for none of them, whatever the user granted the origin before.
 * Only names Chromium knows (it warns on the console about any other; test/web/page-policies.test.ts).
 */
export const PAGE_PERMISSIONS_POLICY = [
  "accelerometer=()",
  "browsing-topics=()",
  "camera=()",
  // The page never reads the clipboard: a paste is the browser's paste event (Ctrl+Shift+V,
  // Shift+Insert, the context menu), which no policy governs.
  "clipboard-read=()",
  // Copy on select and the share panel's link fall back to navigator.clipboard.writeText where
  // execCommand("copy") is refused (clipboard.ts): the browser's default, written out so that it stays.
  "clipboard-write=(self)",
  "display-capture=()",
  "fullscreen=()",
  "geolocation=()",
  "gyroscope=()",
  "hid=()",
  "identity-credentials-get=()",
  "idle-detection=()",
  "local-fonts=()",
  "magnetometer=()",
  "microphone=()",
  "midi=()",
  "otp-credentials=()",
  "payment=()",
  "publickey-credentials-create=()",
  "publickey-credentials-get=()",
  "screen-wake-lock=()",
  "serial=()",
  "usb=()",
  "window-management=()",
  "xr-spatial-tracking=()",
].join(", ");

/**
 * The headers on every response of the page: its HTML and its bundled files. (Strict-Transport-Security
 * is not among them: with TLS it goes on every response of the server, transport-security.ts.)
 */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": PAGE_CONTENT_SECURITY_POLICY,
  "x-frame-options": "DENY",
  // A file is what its Content-Type says, never what its bytes look like.
  "x-content-type-options": "nosniff",
  // Also a <meta> in index.html; the header covers the bundled files' own requests as well.
  "referrer-policy": "no-referrer",
  // A page of another origin that opened this one (or that this one opens) gets no handle on its
  // window, which holds the token.
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy": PAGE_PERMISSIONS_POLICY,
};
