/**
 * Debian's nginx run in the foreground with deploy/nginx/bunker.conf, on loopback ports, with every
 * path it writes under one temporary directory and its error log on stderr.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/server-process.ts";
import { runNginx, type NginxRunValues } from "./helpers/nginx-runner.ts";

export { nginxMissing } from "./helpers/nginx-runner.ts";

/** The shipped config, as an operator copies it. */
export const BUNKER_CONF = join(REPO_ROOT, "deploy", "nginx", "bunker.conf");

/** A running nginx in front of a bunker server. */
export interface TestNginx extends AsyncDisposable {
  /** wss://127.0.0.1:<port>/ws through the TLS server block. */
  readonly wssUrl: string;
  /** http://127.0.0.1:<port> of the plain-HTTP server block, which only redirects. */
  readonly httpUrl: string;
  /** The self-signed certificate nginx presents, for the client to trust. */
  readonly certificatePem: string;
  stderr(): string;
}

/** The ports and files the shipped config's placeholders are replaced with. */
export interface ConfSubstitutions extends NginxRunValues {
  upstreamPort: number;
}

/**
 * deploy/nginx/bunker.conf with its machine-specific lines replaced. Each line must occur exactly
 * once: a config reshaped so that a replacement misses fails here, loudly, instead of testing
 * something other than the file that ships.
 */
export function renderBunkerConf(conf: string, values: ConfSubstitutions): string {
  const replacements: [string, string][] = [
    ["server 127.0.0.1:7681;", `server 127.0.0.1:${values.upstreamPort};`],
    ["listen 443 ssl;", `listen 127.0.0.1:${values.httpsPort} ssl;`],
    ["listen 80;", `listen 127.0.0.1:${values.httpPort};`],
    ["/etc/letsencrypt/live/bunker.example.com/fullchain.pem", values.certificate],
    ["/etc/letsencrypt/live/bunker.example.com/privkey.pem", values.key],
    ["/var/log/nginx/bunker.access.log", values.accessLog],
  ];
  return replacements.reduce((text, [from, to]) => {
    const count = text.split(from).length - 1;
    if (count !== 1) throw new Error(`${BUNKER_CONF}: expected ${JSON.stringify(from)} once, found it ${count} times`);
    return text.replace(from, to);
  }, conf);
}

/** Starts nginx with deploy/nginx/bunker.conf in front of the bunker server on `upstreamPort`. */
export async function startNginx(upstreamPort: number): Promise<TestNginx> {
  const nginx = await runNginx("bunker.conf", (values) => renderBunkerConf(readFileSync(BUNKER_CONF, "utf8"), { upstreamPort, ...values }), 64);
  return {
    wssUrl: `wss://127.0.0.1:${nginx.httpsPort}/ws`,
    httpUrl: `http://127.0.0.1:${nginx.httpPort}`,
    certificatePem: nginx.certificatePem,
    stderr: () => nginx.stderr(),
    [Symbol.asyncDispose]: () => nginx[Symbol.asyncDispose](),
  };
}

/**
 * The shipped config with bunker under `path` (`/bunker/`), changed as docs/INSTALL.md says: two
 * lines, the location and a proxy_pass with a trailing slash, which strips the path on the way in.
 */
export async function startNginxUnderPath(upstreamPort: number, path: string): Promise<TestNginx & { baseUrl: string }> {
  const underPath = (conf: string) => {
    const lines: [string, string][] = [
      ["    location / {", `    location ${path} {`],
      ["        proxy_pass http://bunker_upstream;", "        proxy_pass http://bunker_upstream/;"],
    ];
    return lines.reduce((text, [from, to]) => {
      if (text.split(from).length !== 2) throw new Error(`${BUNKER_CONF}: expected ${JSON.stringify(from)} once`);
      return text.replace(from, to);
    }, conf);
  };
  const nginx = await runNginx("bunker-under-path.conf", (values) => underPath(renderBunkerConf(readFileSync(BUNKER_CONF, "utf8"), { upstreamPort, ...values })), 64);
  return {
    wssUrl: `wss://127.0.0.1:${nginx.httpsPort}${path}ws`,
    baseUrl: `https://127.0.0.1:${nginx.httpsPort}${path}`,
    httpUrl: `http://127.0.0.1:${nginx.httpPort}`,
    certificatePem: nginx.certificatePem,
    stderr: () => nginx.stderr(),
    [Symbol.asyncDispose]: () => nginx[Symbol.asyncDispose](),
  };
}
