/**
 * Debian's nginx run in the foreground with deploy/nginx/bunker.conf, on loopback ports, with every
 * path it writes under one temporary directory and its error log on stderr.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import type { Subprocess } from "bun";
import { REPO_ROOT } from "../helpers/server-process.ts";

/** The shipped config, as an operator copies it. */
export const BUNKER_CONF = join(REPO_ROOT, "deploy", "nginx", "bunker.conf");

/** nginx and openssl live in sbin on Debian, which a non-root PATH may lack. */
const SEARCH_PATH = `${process.env["PATH"] ?? ""}:/usr/sbin:/sbin:/usr/bin:/bin`;

/** Why the nginx tests cannot run here, or undefined when they can. */
export function nginxMissing(): string | undefined {
  if (!Bun.which("nginx", { PATH: SEARCH_PATH })) return "nginx is not installed (apt-get install nginx-light)";
  if (!Bun.which("openssl", { PATH: SEARCH_PATH })) return "openssl is not installed (apt-get install openssl)";
  return undefined;
}

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
export interface ConfSubstitutions {
  upstreamPort: number;
  httpsPort: number;
  httpPort: number;
  certificate: string;
  key: string;
  accessLog: string;
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

async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** Resolves once nginx has started its worker; rejects if it exits first. */
async function waitForWorker(proc: Subprocess<"ignore", "ignore", "pipe">, onText: (text: string) => void): Promise<void> {
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`nginx exited before starting its worker:\n${text}`);
    const chunk = decoder.decode(value, { stream: true });
    text += chunk;
    onText(chunk);
    if (/start worker process \d+/.test(text)) break;
  }
  // Keep draining, so that nginx never blocks on a full stderr pipe.
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      onText(decoder.decode(value, { stream: true }));
    }
  })();
}

/** Starts nginx with deploy/nginx/bunker.conf in front of the bunker server on `upstreamPort`. */
export async function startNginx(upstreamPort: number): Promise<TestNginx> {
  const dir = mkdtempSync(join(tmpdir(), "bunker-nginx-"));
  // Workers run as nobody when nginx starts as root; they only need to reach their temp paths.
  chmodSync(dir, 0o755);
  const certificate = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  await execa(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate],
    { env: { PATH: SEARCH_PATH }, timeout: 30_000 },
  );
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  writeFileSync(
    join(dir, "bunker.conf"),
    renderBunkerConf(readFileSync(BUNKER_CONF, "utf8"), { upstreamPort, httpsPort, httpPort, certificate, key, accessLog: join(dir, "access.log") }),
  );
  writeFileSync(
    join(dir, "nginx.conf"),
    [
      `pid ${join(dir, "nginx.pid")};`,
      `lock_file ${join(dir, "nginx.lock")};`,
      "error_log stderr notice;",
      "worker_processes 1;",
      "events { worker_connections 64; }",
      "http {",
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((name) => `  ${name}_temp_path ${join(dir, name)};`),
      `  include ${join(dir, "bunker.conf")};`,
      "}",
      "",
    ].join("\n"),
  );
  const nginxPath = Bun.which("nginx", { PATH: SEARCH_PATH })!;
  const proc = Bun.spawn([nginxPath, "-p", dir, "-e", "stderr", "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let stderr = "";
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      // SIGQUIT: a graceful stop of the master and its worker.
      proc.kill("SIGQUIT");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await proc.exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // A test run that dies must not leave nginx behind.
  const onExit = () => proc.kill("SIGKILL");
  process.once("exit", onExit);
  try {
    await waitForWorker(proc, (text) => (stderr += text));
  } catch (error) {
    process.off("exit", onExit);
    await stop();
    throw error;
  }
  return {
    wssUrl: `wss://127.0.0.1:${httpsPort}/ws`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    certificatePem: readFileSync(certificate, "utf8"),
    stderr: () => stderr,
    async [Symbol.asyncDispose]() {
      process.off("exit", onExit);
      await stop();
    },
  };
}
