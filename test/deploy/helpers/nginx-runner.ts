/**
 * Debian's nginx run in the foreground with one of the shipped configs, on loopback ports, with
 * every path it writes under one temporary directory and its error log on stderr. Shared by the
 * single-host test (deploy/nginx/bunker.conf) and the cluster test (deploy/nginx/cluster.conf).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import type { Subprocess } from "bun";

/** nginx and openssl live in sbin on Debian, which a non-root PATH may lack. */
export const SEARCH_PATH = `${process.env["PATH"] ?? ""}:/usr/sbin:/sbin:/usr/bin:/bin`;

/** Why nginx cannot run here, or undefined when it can. */
export function nginxMissing(): string | undefined {
  if (!Bun.which("nginx", { PATH: SEARCH_PATH })) return "nginx is not installed (apt-get install nginx-light)";
  if (!Bun.which("openssl", { PATH: SEARCH_PATH })) return "openssl is not installed (apt-get install openssl)";
  return undefined;
}

/** The machine-specific values a shipped config gets in place of its own. */
export interface NginxRunValues {
  httpsPort: number;
  httpPort: number;
  certificate: string;
  key: string;
  accessLog: string;
}

/** A running nginx. */
export interface RunningNginx extends AsyncDisposable {
  readonly httpsPort: number;
  readonly httpPort: number;
  /** The self-signed certificate nginx presents (for 127.0.0.1), for clients to trust. */
  readonly certificatePem: string;
  stderr(): string;
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

/**
 * Starts nginx with the shipped config `name`, as `render` adapts it to this run (its ports,
 * certificate and log), allowing `workerConnections` connections at once.
 */
export async function runNginx(name: string, render: (values: NginxRunValues) => string, workerConnections: number): Promise<RunningNginx> {
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
  writeFileSync(join(dir, name), render({ httpsPort, httpPort, certificate, key, accessLog: join(dir, "access.log") }));
  writeFileSync(
    join(dir, "nginx.conf"),
    [
      `pid ${join(dir, "nginx.pid")};`,
      `lock_file ${join(dir, "nginx.lock")};`,
      "error_log stderr notice;",
      "worker_processes 1;",
      `events { worker_connections ${workerConnections}; }`,
      "http {",
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((temp) => `  ${temp}_temp_path ${join(dir, temp)};`),
      `  include ${join(dir, name)};`,
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
    httpsPort,
    httpPort,
    certificatePem: readFileSync(certificate, "utf8"),
    stderr: () => stderr,
    async [Symbol.asyncDispose]() {
      process.off("exit", onExit);
      await stop();
    },
  };
}
