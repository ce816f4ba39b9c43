/**
 * Valibot schemas of the Kubernetes objects in deploy/kubernetes/, one per apiVersion and kind, and
 * the optional check against the upstream OpenAPI schemas through `kubernetes-models`.
 */
import * as v from "valibot";
import { DnsLabelSchema, LabelMapSchema, LabelSelectorSchema, PodSpecSchema, PortRefSchema, QuantitySchema } from "./kubernetes-pod-schema.ts";

const ObjectMetaSchema = v.strictObject({
  name: DnsLabelSchema,
  namespace: v.optional(DnsLabelSchema),
  labels: v.optional(LabelMapSchema),
  annotations: v.optional(v.record(v.string(), v.string())),
});

const NamespaceSchema = v.strictObject({
  apiVersion: v.literal("v1"),
  kind: v.literal("Namespace"),
  metadata: ObjectMetaSchema,
});

const ServiceSchema = v.strictObject({
  apiVersion: v.literal("v1"),
  kind: v.literal("Service"),
  metadata: ObjectMetaSchema,
  spec: v.strictObject({
    clusterIP: v.optional(v.string()),
    publishNotReadyAddresses: v.optional(v.boolean()),
    selector: LabelMapSchema,
    ports: v.array(v.strictObject({ name: DnsLabelSchema, port: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)), targetPort: PortRefSchema, protocol: v.optional(v.picklist(["TCP", "UDP", "SCTP"])) })),
  }),
});

const StatefulSetSchema = v.strictObject({
  apiVersion: v.literal("apps/v1"),
  kind: v.literal("StatefulSet"),
  metadata: ObjectMetaSchema,
  spec: v.strictObject({
    serviceName: DnsLabelSchema,
    replicas: v.pipe(v.number(), v.integer(), v.minValue(0)),
    podManagementPolicy: v.optional(v.picklist(["OrderedReady", "Parallel"])),
    selector: LabelSelectorSchema,
    updateStrategy: v.optional(v.strictObject({ type: v.picklist(["RollingUpdate", "OnDelete"]) })),
    template: v.strictObject({ metadata: v.strictObject({ labels: LabelMapSchema, annotations: v.optional(v.record(v.string(), v.string())) }), spec: PodSpecSchema }),
    volumeClaimTemplates: v.optional(
      v.array(
        v.strictObject({
          metadata: v.strictObject({ name: DnsLabelSchema }),
          spec: v.strictObject({
            accessModes: v.array(v.picklist(["ReadWriteOnce", "ReadWriteOncePod", "ReadOnlyMany", "ReadWriteMany"])),
            storageClassName: v.optional(v.string()),
            resources: v.strictObject({ requests: v.strictObject({ storage: QuantitySchema }) }),
          }),
        }),
      ),
    ),
  }),
});

const IngressSchema = v.strictObject({
  apiVersion: v.literal("networking.k8s.io/v1"),
  kind: v.literal("Ingress"),
  metadata: ObjectMetaSchema,
  spec: v.strictObject({
    ingressClassName: v.optional(v.string()),
    tls: v.optional(v.array(v.strictObject({ hosts: v.array(v.string()), secretName: DnsLabelSchema }))),
    rules: v.array(
      v.strictObject({
        host: v.optional(v.string()),
        http: v.strictObject({
          paths: v.array(
            v.strictObject({
              path: v.pipe(v.string(), v.startsWith("/")),
              pathType: v.picklist(["Exact", "Prefix", "ImplementationSpecific"]),
              backend: v.strictObject({
                service: v.strictObject({
                  name: DnsLabelSchema,
                  port: v.union([v.strictObject({ name: DnsLabelSchema }), v.strictObject({ number: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)) })]),
                }),
              }),
            }),
          ),
        }),
      }),
    ),
  }),
});

const PodDisruptionBudgetSchema = v.strictObject({
  apiVersion: v.literal("policy/v1"),
  kind: v.literal("PodDisruptionBudget"),
  metadata: ObjectMetaSchema,
  spec: v.strictObject({
    maxUnavailable: v.optional(v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.pipe(v.string(), v.regex(/^\d+%$/))])),
    minAvailable: v.optional(v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.pipe(v.string(), v.regex(/^\d+%$/))])),
    selector: LabelSelectorSchema,
  }),
});

const NetworkPolicyPortSchema = v.strictObject({ port: PortRefSchema, protocol: v.optional(v.picklist(["TCP", "UDP", "SCTP"])) });
const NetworkPolicySchema = v.strictObject({
  apiVersion: v.literal("networking.k8s.io/v1"),
  kind: v.literal("NetworkPolicy"),
  metadata: ObjectMetaSchema,
  spec: v.strictObject({
    podSelector: LabelSelectorSchema,
    policyTypes: v.array(v.picklist(["Ingress", "Egress"])),
    ingress: v.optional(
      v.array(
        v.strictObject({
          from: v.array(v.strictObject({ namespaceSelector: v.optional(LabelSelectorSchema), podSelector: v.optional(LabelSelectorSchema) })),
          ports: v.optional(v.array(NetworkPolicyPortSchema)),
        }),
      ),
    ),
    egress: v.optional(v.array(v.strictObject({ to: v.optional(v.array(v.record(v.string(), v.unknown()))), ports: v.optional(v.array(NetworkPolicyPortSchema)) }))),
  }),
});

/** kustomize's own file: not an API object, but `kubectl apply -k` reads it. */
const KustomizationSchema = v.strictObject({
  apiVersion: v.literal("kustomize.config.k8s.io/v1beta1"),
  kind: v.literal("Kustomization"),
  namespace: v.optional(DnsLabelSchema),
  resources: v.array(v.pipe(v.string(), v.endsWith(".yaml"))),
});

/** Every kind that deploy/kubernetes/ may hold, by `apiVersion kind`. */
export const MANIFEST_SCHEMAS = {
  "v1 Namespace": NamespaceSchema,
  "v1 Service": ServiceSchema,
  "apps/v1 StatefulSet": StatefulSetSchema,
  "networking.k8s.io/v1 Ingress": IngressSchema,
  "policy/v1 PodDisruptionBudget": PodDisruptionBudgetSchema,
  "networking.k8s.io/v1 NetworkPolicy": NetworkPolicySchema,
  "kustomize.config.k8s.io/v1beta1 Kustomization": KustomizationSchema,
} as const;

export type StatefulSet = v.InferOutput<typeof StatefulSetSchema>;
export type Service = v.InferOutput<typeof ServiceSchema>;
export type Ingress = v.InferOutput<typeof IngressSchema>;
export type PodDisruptionBudget = v.InferOutput<typeof PodDisruptionBudgetSchema>;
export type NetworkPolicy = v.InferOutput<typeof NetworkPolicySchema>;
export type Kustomization = v.InferOutput<typeof KustomizationSchema>;

/** Checks one parsed manifest: the problems as `path: message` lines, none when it is valid. */
export function checkManifest(manifest: unknown): string[] {
  const { apiVersion, kind } = (manifest ?? {}) as { apiVersion?: unknown; kind?: unknown };
  const schema = MANIFEST_SCHEMAS[`${String(apiVersion)} ${String(kind)}` as keyof typeof MANIFEST_SCHEMAS];
  if (!schema) return [`apiVersion ${JSON.stringify(apiVersion)} kind ${JSON.stringify(kind)}: no schema for this kind here`];
  const result = v.safeParse(schema, manifest);
  if (result.success) return [];
  return result.issues.map((issue) => `${v.getDotPath(issue) ?? "(root)"}: ${issue.message}`);
}

/**
 * The upstream check: `kubernetes-models` (npm) carries validators generated from the Kubernetes
 * OpenAPI schemas, as `new Kind(object).validate()`, which throws. It is not a dependency of
 * bunker; `npm install --save-dev kubernetes-models` switches the check on.
 */
export async function loadUpstreamValidator(): Promise<((manifest: { apiVersion: string; kind: string }) => Promise<void>) | undefined> {
  const root = "kubernetes-models";
  try {
    await import(`${root}/v1`);
  } catch {
    return undefined;
  }
  return async (manifest) => {
    // Kinds live under `kubernetes-models/<apiVersion>` ("v1", "apps/v1", "networking.k8s.io/v1").
    const models = (await import(`${root}/${manifest.apiVersion}`)) as Record<string, new (data: unknown) => { validate(): void }>;
    const Model = models[manifest.kind];
    if (!Model) throw new Error(`kubernetes-models has no ${manifest.apiVersion} ${manifest.kind}`);
    new Model(manifest).validate();
  };
}
