/**
 * The security headers every response of the terminal page carries, written out here rather than
 * imported from src/server/page-headers.ts: a change to the policy has to be made twice, on purpose.
 */
export const EXPECTED_PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy":
    "accelerometer=(), browsing-topics=(), camera=(), clipboard-read=(), clipboard-write=(self), display-capture=(), fullscreen=(), geolocation=(), gyroscope=(), hid=(), identity-credentials-get=(), idle-detection=(), local-fonts=(), magnetometer=(), microphone=(), midi=(), otp-credentials=(), payment=(), publickey-credentials-create=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), window-management=(), xr-spatial-tracking=()",
};

/** The headers of `response` that EXPECTED_PAGE_HEADERS names (null where one is missing), to compare whole. */
export function pageHeadersOf(response: Response): Record<string, string | null> {
  return Object.fromEntries(Object.keys(EXPECTED_PAGE_HEADERS).map((name) => [name, response.headers.get(name)]));
}

/** The page's bundled files, as its HTML links them (relatively: `./chunk-….js`). */
export function pageAssetLinks(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((match) => match[1]!);
}
