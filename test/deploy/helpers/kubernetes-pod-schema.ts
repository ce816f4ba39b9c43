/**
 * Valibot schemas for the part of the Kubernetes pod API that deploy/kubernetes/ uses. Objects are
 * strict: a field that is misspelt, misplaced or not known here is an error, which the upstream
 * OpenAPI schemas (no additionalProperties: false) would let through silently. A field that the
 * manifests start to use must be added here, with its type as the API reference gives it.
 */
import * as v from "valibot";

/** DNS-1123 label: object names, port names. */
export const DnsLabelSchema = v.pipe(v.string(), v.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS-1123 label"), v.maxLength(63));
/** A resource quantity: "2", "500m", "4Gi", "1e3". */
export const QuantitySchema = v.pipe(v.string(), v.regex(/^([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|[KMGTPE]i|[mkMGTPE])?$/, "must be a quantity such as 500m or 4Gi"));
/** A port by number or by the name of a container port (IANA_SVC_NAME: up to 15 characters). */
export const PortRefSchema = v.union([
  v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)),
  v.pipe(v.string(), v.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a port name"), v.maxLength(15)),
]);
const SecondsSchema = v.pipe(v.number(), v.integer(), v.minValue(0));
const PositiveSchema = v.pipe(v.number(), v.integer(), v.minValue(1));
const ProtocolSchema = v.picklist(["TCP", "UDP", "SCTP"]);

export const LabelMapSchema = v.record(
  v.pipe(v.string(), v.regex(/^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, "must be a label key")),
  v.pipe(v.string(), v.regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/, "must be a label value"), v.maxLength(63)),
);
export const LabelSelectorSchema = v.strictObject({ matchLabels: LabelMapSchema });

const ProbeSchema = v.strictObject({
  httpGet: v.optional(v.strictObject({ path: v.pipe(v.string(), v.startsWith("/")), port: PortRefSchema, scheme: v.optional(v.picklist(["HTTP", "HTTPS"])) })),
  tcpSocket: v.optional(v.strictObject({ port: PortRefSchema })),
  initialDelaySeconds: v.optional(SecondsSchema),
  periodSeconds: v.optional(PositiveSchema),
  timeoutSeconds: v.optional(PositiveSchema),
  failureThreshold: v.optional(PositiveSchema),
  successThreshold: v.optional(PositiveSchema),
});

const EnvVarSchema = v.strictObject({
  name: v.pipe(v.string(), v.regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/, "must be an environment variable name")),
  value: v.optional(v.string()),
  valueFrom: v.optional(
    v.strictObject({
      fieldRef: v.optional(v.strictObject({ fieldPath: v.string() })),
      secretKeyRef: v.optional(v.strictObject({ name: DnsLabelSchema, key: v.string(), optional: v.optional(v.boolean()) })),
    }),
  ),
});

const ProfileSchema = v.strictObject({
  type: v.picklist(["RuntimeDefault", "Unconfined", "Localhost"]),
  localhostProfile: v.optional(v.string()),
});

const ContainerSecurityContextSchema = v.strictObject({
  privileged: v.optional(v.boolean()),
  allowPrivilegeEscalation: v.optional(v.boolean()),
  readOnlyRootFilesystem: v.optional(v.boolean()),
  runAsNonRoot: v.optional(v.boolean()),
  runAsUser: v.optional(SecondsSchema),
  runAsGroup: v.optional(SecondsSchema),
  capabilities: v.optional(v.strictObject({ add: v.optional(v.array(v.string())), drop: v.optional(v.array(v.string())) })),
  procMount: v.optional(v.picklist(["Default", "Unmasked"])),
  seccompProfile: v.optional(ProfileSchema),
  appArmorProfile: v.optional(ProfileSchema),
});

const ResourceListSchema = v.strictObject({
  cpu: v.optional(QuantitySchema),
  memory: v.optional(QuantitySchema),
  "ephemeral-storage": v.optional(QuantitySchema),
});

export const ContainerSchema = v.strictObject({
  name: DnsLabelSchema,
  image: v.pipe(v.string(), v.minLength(1)),
  imagePullPolicy: v.optional(v.picklist(["Always", "IfNotPresent", "Never"])),
  command: v.optional(v.array(v.string())),
  args: v.optional(v.array(v.string())),
  env: v.optional(v.array(EnvVarSchema)),
  ports: v.optional(v.array(v.strictObject({ name: v.optional(v.pipe(v.string(), v.maxLength(15))), containerPort: PositiveSchema, protocol: v.optional(ProtocolSchema) }))),
  readinessProbe: v.optional(ProbeSchema),
  livenessProbe: v.optional(ProbeSchema),
  startupProbe: v.optional(ProbeSchema),
  resources: v.optional(v.strictObject({ requests: v.optional(ResourceListSchema), limits: v.optional(ResourceListSchema) })),
  securityContext: v.optional(ContainerSecurityContextSchema),
  volumeMounts: v.optional(v.array(v.strictObject({ name: DnsLabelSchema, mountPath: v.pipe(v.string(), v.startsWith("/")), readOnly: v.optional(v.boolean()) }))),
});

const AffinitySchema = v.strictObject({
  podAntiAffinity: v.optional(
    v.strictObject({
      preferredDuringSchedulingIgnoredDuringExecution: v.optional(
        v.array(
          v.strictObject({
            weight: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100)),
            podAffinityTerm: v.strictObject({ topologyKey: v.string(), labelSelector: LabelSelectorSchema }),
          }),
        ),
      ),
    }),
  ),
});

const VolumeSchema = v.strictObject({
  name: DnsLabelSchema,
  emptyDir: v.optional(v.strictObject({ medium: v.optional(v.picklist(["", "Memory"])), sizeLimit: v.optional(QuantitySchema) })),
  persistentVolumeClaim: v.optional(v.strictObject({ claimName: DnsLabelSchema, readOnly: v.optional(v.boolean()) })),
});

export const PodSpecSchema = v.strictObject({
  hostUsers: v.optional(v.boolean()),
  automountServiceAccountToken: v.optional(v.boolean()),
  enableServiceLinks: v.optional(v.boolean()),
  terminationGracePeriodSeconds: v.optional(SecondsSchema),
  serviceAccountName: v.optional(DnsLabelSchema),
  securityContext: v.optional(
    v.strictObject({
      runAsNonRoot: v.optional(v.boolean()),
      runAsUser: v.optional(SecondsSchema),
      runAsGroup: v.optional(SecondsSchema),
      fsGroup: v.optional(SecondsSchema),
      seccompProfile: v.optional(ProfileSchema),
      appArmorProfile: v.optional(ProfileSchema),
    }),
  ),
  affinity: v.optional(AffinitySchema),
  containers: v.pipe(v.array(ContainerSchema), v.minLength(1)),
  volumes: v.optional(v.array(VolumeSchema)),
});
