import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseServeArgs } from "../../src/cli/serve-args.ts";
import { REPO_ROOT } from "../helpers/server-process.ts";
import { CLUSTER_CONF } from "./helpers/cluster-nginx.ts";
import {
  checkManifest,
  loadUpstreamValidator,
  type Ingress,
  type Kustomization,
  type NetworkPolicy,
  type PodDisruptionBudget,
  type Service,
  type StatefulSet,
} from "./helpers/kubernetes-schemas.ts";

const MANIFEST_DIR = join(REPO_ROOT, "deploy", "kubernetes");
const files = readdirSync(MANIFEST_DIR).filter((file) => file.endsWith(".yaml")).sort();
/** Each file holds one object. */
const manifests = new Map<string, { apiVersion: string; kind: string }>(
  files.map((file) => [file, Bun.YAML.parse(readFileSync(join(MANIFEST_DIR, file), "utf8")) as { apiVersion: string; kind: string }]),
);

function only<T>(kind: string): T {
  const found = [...manifests.values()].filter((manifest) => manifest.kind === kind);
  if (found.length !== 1) throw new Error(`deploy/kubernetes/ holds ${found.length} objects of kind ${kind}, expected 1`);
  return found[0] as T;
}

const statefulSet = only<StatefulSet>("StatefulSet");
const service = only<Service>("Service");
const ingress = only<Ingress>("Ingress");
const container = statefulSet.spec.template.spec.containers[0]!;

const upstreamValidator = await loadUpstreamValidator();
const requireUpstream = process.env["REQUIRE_K8S_SCHEMAS"] === "1";
if (!upstreamValidator && requireUpstream) throw new Error("REQUIRE_K8S_SCHEMAS=1 but kubernetes-models is not installed (npm install --save-dev kubernetes-models)");
if (!upstreamValidator) console.warn("skipping the upstream Kubernetes schema check: kubernetes-models is not installed (npm install --save-dev kubernetes-models)");

describe("deploy/kubernetes/ (checked offline: no cluster is reachable from the tests)", () => {
  test("every manifest is one object that matches the schema of its kind", () => {
    const problems = Object.fromEntries(files.map((file) => [file, checkManifest(manifests.get(file))]));
    expect(problems).toEqual(Object.fromEntries(files.map((file) => [file, []])));
  });

  test("the schema catches a misspelt field, a bad enum value, a bad quantity and a relative probe path", () => {
    const broken = structuredClone(statefulSet) as unknown as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
    const target = broken.spec.template.spec.containers[0]!;
    target["livenesProbe"] = target["livenessProbe"];
    delete target["livenessProbe"];
    (target["securityContext"] as { procMount: string }).procMount = "unmasked";
    (target["resources"] as { requests: { memory: string } }).requests.memory = "4 GiB";
    (target["readinessProbe"] as { httpGet: { path: string } }).httpGet.path = "healthz";
    const paths = checkManifest(broken).map((problem) => problem.slice(0, problem.indexOf(":")));
    expect(paths.sort()).toEqual([
      "spec.template.spec.containers.0.livenesProbe",
      "spec.template.spec.containers.0.readinessProbe.httpGet.path",
      "spec.template.spec.containers.0.resources.requests.memory",
      "spec.template.spec.containers.0.securityContext.procMount",
    ]);
  });

  test.skipIf(!upstreamValidator)("every API object validates against the Kubernetes OpenAPI schemas (kubernetes-models)", async () => {
    const failures: Record<string, string> = {};
    for (const [file, manifest] of manifests) {
      if (manifest.kind === "Kustomization") continue;
      try {
        await upstreamValidator!(manifest);
      } catch (error) {
        failures[file] = (error as Error).message;
      }
    }
    expect(failures).toEqual({});
  });

  test("the kustomization lists every manifest in the folder, once", () => {
    const kustomization = only<Kustomization>("Kustomization");
    expect([...kustomization.resources].sort()).toEqual(files.filter((file) => file !== "kustomization.yaml"));
  });

  test("every object lives in the bunker namespace", () => {
    const namespaces = [...manifests.values()]
      .filter((manifest) => manifest.kind !== "Namespace" && manifest.kind !== "Kustomization")
      .map((manifest) => (manifest as unknown as { metadata: { namespace?: string } }).metadata.namespace);
    expect(new Set(namespaces)).toEqual(new Set(["bunker"]));
  });

  test("the headless Service, the Ingress, the budget and the network policy all reach the StatefulSet's pods on its port", () => {
    const podLabels = statefulSet.spec.template.metadata.labels;
    const port = container.ports![0]!;
    const budget = only<PodDisruptionBudget>("PodDisruptionBudget");
    const policy = only<NetworkPolicy>("NetworkPolicy");
    const backend = ingress.spec.rules[0]!.http.paths[0]!.backend.service;
    expect({
      selector: statefulSet.spec.selector.matchLabels,
      serviceName: statefulSet.spec.serviceName,
      service: { name: service.metadata.name, clusterIP: service.spec.clusterIP, selector: service.spec.selector, ports: service.spec.ports },
      ingressBackend: backend,
      budget: budget.spec.selector.matchLabels,
      policy: { pods: policy.spec.podSelector.matchLabels, ports: policy.spec.ingress![0]!.ports },
    }).toEqual({
      selector: podLabels,
      serviceName: service.metadata.name,
      service: { name: "bunker", clusterIP: "None", selector: podLabels, ports: [{ name: "http", port: port.containerPort, targetPort: port.name!, protocol: "TCP" }] },
      ingressBackend: { name: service.metadata.name, port: { name: "http" } },
      budget: podLabels,
      policy: { pods: podLabels, ports: [{ port: port.name!, protocol: "TCP" }] },
    });
  });

  test("the Ingress hashes on the session exactly as deploy/nginx/cluster.conf does, with WebSocket timeouts and no buffering", () => {
    const confKey = /^\s*hash (\S+) consistent;/m.exec(readFileSync(CLUSTER_CONF, "utf8"))?.[1];
    expect(confKey).toBe("$arg_session$arg_name");
    const annotations = ingress.metadata.annotations!;
    expect(annotations).toEqual({
      "nginx.ingress.kubernetes.io/upstream-hash-by": confKey!,
      "nginx.ingress.kubernetes.io/upstream-hash-by-use-hostname": "true",
      "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
      "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
      "nginx.ingress.kubernetes.io/proxy-connect-timeout": "5",
      "nginx.ingress.kubernetes.io/proxy-buffering": "off",
      "nginx.ingress.kubernetes.io/proxy-request-buffering": "off",
      "nginx.ingress.kubernetes.io/proxy-body-size": "1g",
      "nginx.ingress.kubernetes.io/ssl-redirect": "true",
    });
    // Longer than bunker's idle timeout (45 s by default), so only a dead peer is ever cut.
    expect(Number(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"])).toBeGreaterThan(120);
  });

  test("the container's flags parse with bunker's own parser: all interfaces, the pod's name as host id, sandbox required", () => {
    const env = Object.fromEntries((container.env ?? []).map((item) => [item.name, item.value]));
    const settings = parseServeArgs(container.args!.slice(1), { ...env, BUNKER_HOST_ID: "bunker-0", BUNKER_TOKEN: "t".repeat(43) });
    expect(container.args![0]).toBe("serve");
    expect(settings === "help" ? settings : { host: settings.host, port: settings.port, hostId: settings.hostId, requireSandbox: settings.requireSandbox, workspaceRoot: settings.workspaceRoot }).toEqual({
      host: "0.0.0.0",
      port: container.ports![0]!.containerPort,
      hostId: "bunker-0",
      requireSandbox: true,
      workspaceRoot: container.volumeMounts!.find((mount) => mount.name === "workspaces")!.mountPath,
    });
  });

  test("the token and the host id come from the cluster, never written in a manifest", () => {
    expect(container.env).toEqual([
      { name: "BUNKER_HOST_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "BUNKER_TOKEN", valueFrom: { secretKeyRef: { name: "bunker-token", key: "token" } } },
    ]);
    expect(container.args!.filter((arg) => arg === "--token" || arg === "--no-auth" || arg.startsWith("--token="))).toEqual([]);
  });

  test("readiness asks GET /healthz on the bunker port; liveness only checks that the port answers", () => {
    expect({ readiness: container.readinessProbe?.httpGet, liveness: container.livenessProbe?.tcpSocket, livenessHttp: container.livenessProbe?.httpGet }).toEqual({
      readiness: { path: "/healthz", port: "http" },
      liveness: { port: "http" },
      livenessHttp: undefined,
    });
  });

  test("the pod may run bwrap without privilege: its own user namespace, an unmasked /proc, seccomp and AppArmor unconfined, no capability", () => {
    expect({ hostUsers: statefulSet.spec.template.spec.hostUsers, pod: statefulSet.spec.template.spec.securityContext, container: container.securityContext }).toEqual({
      hostUsers: false,
      pod: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 },
      container: {
        privileged: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        procMount: "Unmasked",
        seccompProfile: { type: "Unconfined" },
        appArmorProfile: { type: "Unconfined" },
      },
    });
    // A read-only root needs a writable temporary directory for the sandbox probe and the runtime files.
    expect(container.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
  });

  test("the container requests CPU and memory and caps memory, which its commands share", () => {
    expect(container.resources).toEqual({
      requests: { cpu: expect.any(String), memory: expect.any(String) },
      limits: { memory: expect.any(String) },
    });
  });
});
