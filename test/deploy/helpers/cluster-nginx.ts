/**
 * Debian's nginx run in the foreground with deploy/nginx/cluster.conf in front of several bunker
 * instances on loopback, with every path it writes under one temporary directory and its error log
 * on stderr.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../helpers/server-process.ts";
import { nginxMissing, runNginx, type NginxRunValues, type RunningNginx } from "./nginx-runner.ts";

/** The shipped config, as an operator copies it. */
export const CLUSTER_CONF = join(REPO_ROOT, "deploy", "nginx", "cluster.conf");

/** The upstream lines of the shipped config, in order; the test puts one bunker behind each. */
export const CLUSTER_CONF_SERVERS = ["server 10.0.0.11:7681;", "server 10.0.0.12:7681;", "server 10.0.0.13:7681;"] as const;

/** Why nginx cannot run here, or undefined when it can. */
export const clusterNginxMissing = nginxMissing;

/** What replaces the machine-specific lines of cluster.conf. */
export interface ClusterConfValues extends NginxRunValues {
  /** One loopback port per `server` line, in order. */
  upstreamPorts: readonly number[];
}

/**
 * cluster.conf with its machine-specific lines replaced. Each line must occur exactly once: a
 * config reshaped so that a replacement misses fails here, loudly, instead of testing something
 * other than the file that ships.
 */
export function renderClusterConf(conf: string, values: ClusterConfValues): string {
  if (values.upstreamPorts.length !== CLUSTER_CONF_SERVERS.length) {
    throw new TypeError(`renderClusterConf: cluster.conf lists ${CLUSTER_CONF_SERVERS.length} hosts, got ${values.upstreamPorts.length} ports`);
  }
  const replacements: [string, string][] = [
    ...CLUSTER_CONF_SERVERS.map((line, index): [string, string] => [line, `server 127.0.0.1:${values.upstreamPorts[index]};`]),
    ["listen 443 ssl;", `listen 127.0.0.1:${values.httpsPort} ssl;`],
    ["listen 80;", `listen 127.0.0.1:${values.httpPort};`],
    ["/etc/letsencrypt/live/bunker.example.com/fullchain.pem", values.certificate],
    ["/etc/letsencrypt/live/bunker.example.com/privkey.pem", values.key],
    ["/var/log/nginx/bunker-cluster.access.log", values.accessLog],
  ];
  return replacements.reduce((text, [from, to]) => {
    const count = text.split(from).length - 1;
    if (count !== 1) throw new Error(`${CLUSTER_CONF}: expected ${JSON.stringify(from)} once, found it ${count} times`);
    return text.replace(from, to);
  }, conf);
}

/** A running nginx in front of the bunker instances. */
export type ClusterNginx = RunningNginx;

/** Starts nginx with deploy/nginx/cluster.conf in front of the bunker instances on `upstreamPorts`. */
export async function startClusterNginx(upstreamPorts: readonly number[]): Promise<ClusterNginx> {
  // Each session holds two connections (client and upstream); a test opens dozens at once.
  return runNginx("cluster.conf", (values) => renderClusterConf(readFileSync(CLUSTER_CONF, "utf8"), { upstreamPorts, ...values }), 1024);
}
