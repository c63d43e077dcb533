import { parse, parseAllDocuments } from 'yaml';

/** The parts of a Kubernetes container the container backend reads (the rest is ignored or refused). */
export interface K8sProbe {
  readonly httpGet?: { readonly path?: string; readonly port: number | string; readonly scheme?: string };
  readonly exec?: unknown;
  readonly tcpSocket?: unknown;
  readonly grpc?: unknown;
  readonly initialDelaySeconds?: number;
  readonly periodSeconds?: number;
  readonly failureThreshold?: number;
}

export interface K8sEnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly fieldRef?: { readonly fieldPath: string };
    readonly configMapKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean };
    readonly secretKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean };
    readonly resourceFieldRef?: unknown;
  };
}

export interface K8sSecurityContext {
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly runAsNonRoot?: boolean;
  readonly readOnlyRootFilesystem?: boolean;
  readonly allowPrivilegeEscalation?: boolean;
  readonly privileged?: boolean;
  readonly capabilities?: { readonly add?: readonly string[]; readonly drop?: readonly string[] };
  readonly seccompProfile?: { readonly type: string };
  readonly fsGroup?: number;
  readonly supplementalGroups?: readonly number[];
}

export interface K8sContainer {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly workingDir?: string;
  readonly env?: readonly K8sEnvVar[];
  readonly envFrom?: readonly {
    readonly prefix?: string;
    readonly configMapRef?: { readonly name: string; readonly optional?: boolean };
    readonly secretRef?: { readonly name: string; readonly optional?: boolean };
  }[];
  readonly ports?: readonly { readonly containerPort: number; readonly name?: string }[];
  readonly startupProbe?: K8sProbe;
  readonly readinessProbe?: K8sProbe;
  readonly livenessProbe?: K8sProbe;
  readonly securityContext?: K8sSecurityContext;
  readonly volumeMounts?: readonly {
    readonly name: string;
    readonly mountPath: string;
    readonly readOnly?: boolean;
    readonly subPath?: string;
  }[];
  readonly restartPolicy?: string;
  readonly resources?: { readonly limits?: { readonly cpu?: string | number; readonly memory?: string } };
  readonly lifecycle?: unknown;
}

export interface K8sVolume {
  readonly name: string;
  readonly emptyDir?: { readonly medium?: string; readonly sizeLimit?: string };
  readonly configMap?: { readonly name: string; readonly optional?: boolean; readonly items?: unknown };
  readonly secret?: { readonly secretName: string; readonly optional?: boolean; readonly items?: unknown };
  readonly downwardAPI?: {
    readonly items?: readonly {
      readonly path: string;
      readonly fieldRef?: { readonly fieldPath: string };
      readonly resourceFieldRef?: unknown;
    }[];
  };
}

export interface K8sPodSpec {
  readonly containers: readonly K8sContainer[];
  readonly initContainers?: readonly K8sContainer[];
  readonly volumes?: readonly K8sVolume[];
  readonly securityContext?: K8sSecurityContext;
  readonly terminationGracePeriodSeconds?: number;
  readonly restartPolicy?: string;
}

/** The Pod a rendered manifest describes, with the ConfigMaps and Secrets it can mount. */
export interface RenderedPod {
  /** The workload it came from, e.g. `Deployment/agent`. */
  readonly source: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  /** The Pod template's metadata (what the Downward API reports). */
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly spec: K8sPodSpec;
  readonly configMaps: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Decoded (`data` is base64, `stringData` is not). */
  readonly secrets: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

interface K8sMetadata {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

interface K8sObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: K8sMetadata;
  readonly spec?: {
    readonly template?: { readonly metadata?: K8sMetadata; readonly spec?: K8sPodSpec };
  } & Partial<K8sPodSpec>;
  readonly data?: Record<string, string>;
  readonly stringData?: Record<string, string>;
}

/**
 * Reads the output of `kubectl kustomize` (multi-document YAML) into the one Pod it describes: the Pod
 * template of its workload (Deployment, Job, StatefulSet, DaemonSet, ReplicaSet, or a bare Pod). `kind`
 * picks the workload when there are several.
 */
export function podFromManifest(text: string, kind?: string): RenderedPod {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`the manifest is not valid YAML: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value && typeof value === 'object') objects.push(value);
  }
  const workloads = objects.filter(
    (object) => (object.kind === 'Pod' ? object.spec?.containers : object.spec?.template?.spec) !== undefined,
  );
  const chosen = kind ? workloads.filter((object) => object.kind === kind) : workloads;
  const names = workloads.map((object) => `${object.kind}/${object.metadata?.name}`).join(', ') || 'none';
  if (chosen.length !== 1) {
    throw new Error(
      `the manifest must hold exactly one workload${kind ? ` of kind ${kind}` : ''} with a Pod template; it has ${names}`,
    );
  }
  const workload = chosen[0]!;
  const spec = (workload.kind === 'Pod' ? workload.spec : workload.spec?.template?.spec) as K8sPodSpec;
  const metadata = (workload.kind === 'Pod' ? workload.metadata : workload.spec?.template?.metadata) ?? {};
  const configMaps = new Map<string, Record<string, string>>();
  const secrets = new Map<string, Record<string, string>>();
  for (const object of objects) {
    const name = object.metadata?.name;
    if (!name) continue;
    if (object.kind === 'ConfigMap') configMaps.set(name, { ...(object.data ?? {}) });
    if (object.kind === 'Secret') {
      const decoded: Record<string, string> = {};
      for (const [key, value] of Object.entries(object.data ?? {}))
        decoded[key] = Buffer.from(value, 'base64').toString('utf8');
      secrets.set(name, { ...decoded, ...(object.stringData ?? {}) });
    }
  }
  const name = workload.metadata?.name ?? 'pod';
  return {
    source: `${workload.kind}/${name}`,
    kind: workload.kind!,
    name,
    namespace: workload.metadata?.namespace ?? 'default',
    labels: { ...(metadata.labels ?? {}) },
    annotations: { ...(metadata.annotations ?? {}) },
    spec,
    configMaps,
    secrets,
  };
}

/** Native sidecars: init containers with `restartPolicy: Always`, in their declared (start) order. */
export function nativeSidecars(spec: K8sPodSpec): K8sContainer[] {
  const init = spec.initContainers ?? [];
  const others = init.filter((container) => container.restartPolicy !== 'Always');
  if (others.length > 0) {
    throw new Error(
      `init containers that run to completion are not supported by the container backend: ${others.map((c) => c.name).join(', ')}`,
    );
  }
  return [...init];
}

/**
 * The config file a container reads with `--config <path>`, from the ConfigMap mounted over that path,
 * parsed; empty when it has none.
 */
export function configFileOf(manifest: RenderedPod, container: K8sContainer): Record<string, unknown> {
  const args = container.args ?? [];
  const at = args.indexOf('--config');
  const path = at >= 0 ? args[at + 1] : undefined;
  if (path === undefined) return {};
  const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
  const volume = manifest.spec.volumes?.find((v) => v.name === mount?.name);
  const data = volume?.configMap ? manifest.configMaps.get(volume.configMap.name) : undefined;
  const text = mount ? data?.[path.slice(mount.mountPath.length + 1)] : undefined;
  return text === undefined ? {} : ((parse(text) as Record<string, unknown> | null) ?? {});
}
