import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@agent-sidecars/shared';
import { REPO_ROOT } from '../local-pod.js';
import type { LineListener, OutputStream } from '../managed-process.js';
import { Pod, type PodEvent, type TerminationReport } from '../pod.js';
import { type DockerEngine, docker } from './docker-cli.js';
import { DockerContainer, type DockerContainerSpec } from './docker-container.js';
import {
  type K8sContainer,
  type K8sEnvVar,
  type K8sProbe,
  type K8sSecurityContext,
  nativeSidecars,
  podFromManifest,
  type RenderedPod,
} from './pod-manifest.js';
import { PortForwards } from './port-forward.js';

/** The image that holds the Pod's network namespace (the same name docker-compose.yaml uses). */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
/** What `spec.nodeName` reports when no node name is given. */
const NODE_NAME = 'localhost';
/** Label on everything a ContainerPod creates, with the Pod's run id as its value. */
export const POD_LABEL = 'agent-sidecars.pod';

export interface ContainerPodOptions {
  readonly engine: DockerEngine;
  /** Output of `kubectl kustomize` (the workload, its ConfigMaps and Secrets), or that read already. */
  readonly manifest: string | RenderedPod;
  /** The workload's kind when the manifest holds several. */
  readonly kind?: string;
  /** Host directory for the ConfigMap/Secret files and the forwarder's sockets; removed by dispose(). */
  readonly dir: string;
  /** An image with Node at `helperNode`, for the port forwarder and the emptyDir set-up. */
  readonly helperImage: string;
  readonly helperNode: string;
  /** What the Downward API reports; the manifest's workload name plus a suffix by default. */
  readonly podName?: string;
  readonly nodeName?: string;
  /** `restartPolicy: Always` for native sidecars (default true). */
  readonly restartSidecars?: boolean;
  readonly onLine?: (container: string, stream: OutputStream, text: string) => void;
  readonly onEvent?: (event: PodEvent) => void;
}

/**
 * The Pod of a rendered manifest in containers, with the kubelet's semantics: a pause container owning
 * a loopback-only network namespace that every container joins, `emptyDir` volumes as engine volumes
 * (mode 0777 like the kubelet's), ConfigMap, Secret and Downward API (labels, annotations) volumes as
 * read-only files, Downward API env, envFrom ConfigMaps and Secrets,
 * each container's securityContext and limits as `docker run` flags, native sidecars started in order
 * (each after its startup probe), restarted when they exit, and stopped after the app in reverse order
 * within terminationGracePeriodSeconds (via {@link Pod}). The host reaches the Pod's ports through a
 * forwarder container in the namespace and a unix socket (no container network is ever created).
 *
 * Not emulated: liveness probes, restarts of the app container, resource requests, sizeLimit, init
 * containers that run to completion, exec/tcp probes (refused with a message naming the field).
 */
export class ContainerPod {
  readonly pod: Pod<DockerContainerSpec, DockerContainer>;
  readonly manifest: RenderedPod;
  readonly podName: string;
  /** `--network container:<pause>`: what joins a container to the Pod's namespace. */
  readonly networkArgs: readonly string[];
  readonly #options: ContainerPodOptions;
  readonly #forwards: PortForwards;
  readonly #containers: string[];
  readonly #volumes: string[];

  private constructor(
    options: ContainerPodOptions,
    manifest: RenderedPod,
    podName: string,
    pod: Pod<DockerContainerSpec, DockerContainer>,
    forwards: PortForwards,
    containers: string[],
    volumes: string[],
  ) {
    this.networkArgs = ['--network', `container:${containers[0]}`];
    this.#options = options;
    this.manifest = manifest;
    this.podName = podName;
    this.pod = pod;
    this.#forwards = forwards;
    this.#containers = containers;
    this.#volumes = volumes;
  }

  /**
   * Creates the sandbox (pause container, volumes, forwarder) and the Pod, without starting any of its
   * containers. On failure everything created so far is removed again.
   */
  static async create(options: ContainerPodOptions): Promise<ContainerPod> {
    const manifest =
      typeof options.manifest === 'string'
        ? podFromManifest(options.manifest, options.kind)
        : options.manifest;
    const runId = randomBytes(4).toString('hex');
    const podName = options.podName ?? `${manifest.name}-${runId}`;
    const containers: string[] = [];
    const volumes: string[] = [];
    const { engine } = options;
    const label = ['--label', `${POD_LABEL}=${runId}`];
    try {
      mkdirSync(options.dir, { recursive: true });
      const sockets = join(options.dir, 'sockets');
      mkdirSync(sockets, { recursive: true });
      // The forwarder runs as a non-root user and creates its sockets here.
      chmodSync(sockets, 0o777);

      const pause = await docker(engine, [
        'run',
        '--detach',
        ...label,
        '--network',
        'none',
        '--hostname',
        podName,
        ...['--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'],
        PAUSE_IMAGE,
      ]);
      containers.push(pause);
      const namespace = ['--network', `container:${pause}`];

      const identity = { name: podName, uid: randomUUID(), nodeName: options.nodeName ?? NODE_NAME };
      const mounts = await prepareVolumes(options, manifest, identity, runId, label, volumes);
      const sidecars = nativeSidecars(manifest.spec);
      if (manifest.spec.containers.length !== 1) {
        throw new Error(
          `the container backend runs one app container; ${manifest.source} has ${manifest.spec.containers.map((c) => c.name).join(', ')}`,
        );
      }
      const app = manifest.spec.containers[0]!;
      const all = [...sidecars, app];
      const ports = [
        ...new Set(all.flatMap((container) => (container.ports ?? []).map((p) => p.containerPort))),
      ];

      const forwarder = await docker(engine, [
        'run',
        '--detach',
        ...label,
        ...namespace,
        ...[
          '--user',
          '65532:65532',
          '--read-only',
          '--cap-drop',
          'ALL',
          '--security-opt',
          'no-new-privileges',
        ],
        ...['--mount', `type=bind,src=${sockets},dst=/sockets`],
        ...[
          '--mount',
          `type=bind,src=${join(REPO_ROOT, 'packages/pod-runner/dist/container/forwarder.js')},dst=/pod-runner/forwarder.mjs,readonly`,
        ],
        ...['--entrypoint', options.helperNode],
        options.helperImage,
        '/pod-runner/forwarder.mjs',
        '/sockets',
        ...ports.map(String),
      ]);
      containers.push(forwarder);
      await waitFor(
        'the port forwarder in the Pod to open its sockets',
        async () => {
          if (ports.every((port) => existsSync(join(sockets, `${port}.sock`)))) return true;
          const state = await docker(engine, ['inspect', '--format', '{{.State.Status}}', forwarder]);
          if (state !== 'running') throw new Error(`the forwarder is ${state}`);
          return undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      const forwards = await PortForwards.open(sockets, ports);

      const context: TranslateContext = {
        manifest,
        podName,
        identity,
        namespace,
        label,
        mounts,
        forwards,
      };
      const toSpec = (container: K8sContainer, role: 'sidecar' | 'app') =>
        containerSpec(container, role, context, (image) => imageUser(engine, image));
      const specs = await Promise.all(
        all.map((container, index) => toSpec(container, index < sidecars.length ? 'sidecar' : 'app')),
      );
      const pod = new Pod<DockerContainerSpec, DockerContainer>(
        {
          sidecars: specs.slice(0, sidecars.length),
          app: specs.at(-1)!,
          terminationGracePeriodMs: (manifest.spec.terminationGracePeriodSeconds ?? 30) * 1000,
          restartSidecars: options.restartSidecars ?? true,
          ...(options.onLine ? { onLine: options.onLine } : {}),
          ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        },
        (spec, onLine: LineListener | undefined) =>
          DockerContainer.start(engine, spec, onLine, (id) => containers.push(id)),
      );
      return new ContainerPod(options, manifest, podName, pod, forwards, containers, volumes);
    } catch (error) {
      await removeAll(engine, containers, volumes);
      rmSync(options.dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** `http://127.0.0.1:<local>` reaching the Pod's `port` (a number or a container port's name). */
  url(port: number | string): string {
    return this.#forwards.url(resolvePort(port, this.#allContainers()));
  }

  /** The Job's way: start, let the app run to its end, then stop the sidecars in reverse order. */
  async runToCompletion(timeoutMs = 300_000): Promise<TerminationReport> {
    await this.pod.start();
    const app = this.pod.container(this.pod.containerNames.at(-1)!);
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      app.exited.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) throw new Error(`the app container did not complete within ${timeoutMs} ms`);
    return this.pod.terminate();
  }

  /** `docker run` of another container in the Pod's namespace (a test's helper), removed by dispose(). */
  async runInPod(args: readonly string[]): Promise<string> {
    const id = await docker(this.#options.engine, ['run', '--detach', ...this.networkArgs, ...args]);
    this.#containers.push(id);
    return id;
  }

  /** Every container and volume this Pod created, removed by id (also after a failure). */
  async dispose(): Promise<void> {
    this.pod.kill();
    await this.#forwards.close();
    await removeAll(this.#options.engine, this.#containers, this.#volumes);
    await Promise.race([this.pod.exited(), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    rmSync(this.#options.dir, { recursive: true, force: true });
  }

  #allContainers(): K8sContainer[] {
    return [...(this.manifest.spec.initContainers ?? []), ...this.manifest.spec.containers];
  }
}

async function removeAll(engine: DockerEngine, containers: string[], volumes: string[]): Promise<void> {
  if (containers.length > 0)
    await docker(engine, ['rm', '--force', '--volumes', ...containers]).catch(() => undefined);
  if (volumes.length > 0)
    await docker(engine, ['volume', 'rm', '--force', ...volumes]).catch(() => undefined);
}

/**
 * A Downward API volume file as the kubelet writes it: labels and annotations as sorted `key="value"`
 * lines (the value quoted as Go's strconv.Quote does for these characters), other fields as they are.
 */
function downwardField(field: string, manifest: RenderedPod, pod: PodIdentity): string | undefined {
  const lines = (map: Readonly<Record<string, string>>) =>
    Object.keys(map)
      .sort()
      .map((key) => `${key}=${JSON.stringify(map[key])}`)
      .join('\n');
  switch (field) {
    case 'metadata.labels':
      return lines(manifest.labels);
    case 'metadata.annotations':
      return lines(manifest.annotations);
    case 'metadata.name':
      return pod.name;
    case 'metadata.uid':
      return pod.uid;
    case 'metadata.namespace':
      return manifest.namespace;
    case 'spec.nodeName':
      return pod.nodeName;
    // The Pod's namespace has loopback only.
    case 'status.podIP':
      return '127.0.0.1';
    default:
      return undefined;
  }
}

/** How each of the Pod's volumes is mounted: `--mount` source fragments by volume name. */
type VolumeMounts = ReadonlyMap<
  string,
  { readonly type: 'volume' | 'bind'; readonly source: string; readonly readOnly: boolean }
>;

/** What the Downward API says about this Pod. */
interface PodIdentity {
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string;
}

async function prepareVolumes(
  options: ContainerPodOptions,
  manifest: RenderedPod,
  identity: PodIdentity,
  runId: string,
  label: readonly string[],
  created: string[],
): Promise<VolumeMounts> {
  const mounts = new Map<string, { type: 'volume' | 'bind'; source: string; readOnly: boolean }>();
  for (const volume of manifest.spec.volumes ?? []) {
    const where = `volume ${volume.name} of ${manifest.source}`;
    if (volume.emptyDir) {
      if (volume.emptyDir.medium)
        throw new Error(`${where}: emptyDir.medium ${volume.emptyDir.medium} is not supported`);
      const name = `${manifest.name}-${volume.name}-${runId}`;
      await docker(options.engine, ['volume', 'create', ...label, name]);
      created.push(name);
      // The kubelet makes an emptyDir world-writable (0777), whoever mounts it first.
      await docker(options.engine, [
        'run',
        '--rm',
        ...label,
        ...['--network', 'none', '--user', '0:0', '--cap-drop', 'ALL'],
        ...['--mount', `type=volume,src=${name},dst=/volume`],
        ...['--entrypoint', options.helperNode],
        options.helperImage,
        '-e',
        "require('node:fs').chmodSync('/volume', 0o777)",
      ]);
      mounts.set(volume.name, { type: 'volume', source: name, readOnly: false });
    } else if (volume.configMap || volume.secret) {
      const isSecret = volume.secret !== undefined;
      const ref = isSecret ? volume.secret!.secretName : volume.configMap!.name;
      const optional = (isSecret ? volume.secret!.optional : volume.configMap!.optional) === true;
      if ((isSecret ? volume.secret!.items : volume.configMap!.items) !== undefined)
        throw new Error(`${where}: items are not supported; mount every key`);
      const data = (isSecret ? manifest.secrets : manifest.configMaps).get(ref);
      if (!data && !optional)
        throw new Error(`${where}: ${isSecret ? 'Secret' : 'ConfigMap'} ${ref} is not in the manifest`);
      const dir = join(options.dir, 'volumes', volume.name);
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o755);
      // An optional Secret or ConfigMap that does not exist is an empty directory, as on the kubelet.
      for (const [key, value] of Object.entries(data ?? {}))
        writeFileSync(join(dir, key), value, { mode: 0o644 });
      mounts.set(volume.name, { type: 'bind', source: dir, readOnly: true });
    } else if (volume.downwardAPI) {
      const dir = join(options.dir, 'volumes', volume.name);
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o755);
      for (const item of volume.downwardAPI.items ?? []) {
        const field = item.fieldRef?.fieldPath;
        if (field === undefined) throw new Error(`${where}: only fieldRef items are supported`);
        const value = downwardField(field, manifest, identity);
        if (value === undefined) throw new Error(`${where}: fieldRef ${field} is not supported`);
        writeFileSync(join(dir, item.path), value, { mode: 0o644 });
      }
      mounts.set(volume.name, { type: 'bind', source: dir, readOnly: true });
    } else {
      throw new Error(`${where}: only emptyDir, configMap, secret and downwardAPI volumes are supported`);
    }
  }
  return mounts;
}

interface TranslateContext {
  readonly manifest: RenderedPod;
  readonly podName: string;
  readonly identity: PodIdentity;
  readonly namespace: readonly string[];
  readonly label: readonly string[];
  readonly mounts: VolumeMounts;
  readonly forwards: PortForwards;
}

async function imageUser(engine: DockerEngine, image: string): Promise<string> {
  return docker(engine, ['image', 'inspect', '--format', '{{.Config.User}}', image]);
}

/** A container of the manifest as `docker run` flags, with the kubelet's checks on the way. */
async function containerSpec(
  container: K8sContainer,
  role: 'sidecar' | 'app',
  context: TranslateContext,
  userOfImage: (image: string) => Promise<string>,
): Promise<DockerContainerSpec> {
  const where = `container ${container.name} of ${context.manifest.source}`;
  const pod = context.manifest.spec.securityContext ?? {};
  const own: K8sSecurityContext = container.securityContext ?? {};
  const args: string[] = [...context.label, ...context.namespace];

  const uid = own.runAsUser ?? pod.runAsUser;
  const gid = own.runAsGroup ?? pod.runAsGroup;
  if (uid !== undefined) args.push('--user', gid === undefined ? String(uid) : `${uid}:${gid}`);
  if (own.runAsNonRoot ?? pod.runAsNonRoot) {
    // The kubelet's check: the user must be known to be non-zero, numerically.
    const user = uid === undefined ? (await userOfImage(container.image)).split(':')[0]! : String(uid);
    if (!/^\d+$/.test(user) || Number(user) === 0)
      throw new Error(`${where}: runAsNonRoot, but it would run as ${JSON.stringify(user || 'root')}`);
  }
  for (const group of [pod.fsGroup, ...(pod.supplementalGroups ?? [])])
    if (group !== undefined) args.push('--group-add', String(group));
  if (own.privileged) throw new Error(`${where}: privileged containers are not run by the container backend`);
  if (own.readOnlyRootFilesystem) args.push('--read-only');
  if (own.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
  for (const cap of own.capabilities?.drop ?? []) args.push('--cap-drop', cap);
  for (const cap of own.capabilities?.add ?? []) args.push('--cap-add', cap);
  const seccomp = own.seccompProfile?.type ?? pod.seccompProfile?.type;
  if (seccomp === 'Unconfined') args.push('--security-opt', 'seccomp=unconfined');
  else if (seccomp !== undefined && seccomp !== 'RuntimeDefault')
    throw new Error(`${where}: seccompProfile ${seccomp} is not supported`);

  const limits = container.resources?.limits;
  if (limits?.memory !== undefined) args.push('--memory', String(quantityBytes(limits.memory, where)));
  if (limits?.cpu !== undefined) args.push('--cpus', String(cpuQuantity(limits.cpu, where)));

  // envFrom first, then env, which wins for a name both set (the kubelet's order).
  const env = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    if (!ref) throw new Error(`${where}: envFrom supports configMapRef and secretRef`);
    const data = (source.secretRef ? context.manifest.secrets : context.manifest.configMaps).get(ref.name);
    if (!data && !ref.optional) throw new Error(`${where}: envFrom ${ref.name} is not in the manifest`);
    for (const [key, value] of Object.entries(data ?? {})) env.set(`${source.prefix ?? ''}${key}`, value);
  }
  for (const variable of container.env ?? []) env.set(variable.name, envValue(variable, context, where));
  for (const [name, value] of env) args.push('--env', `${name}=${value}`);

  for (const mount of container.volumeMounts ?? []) {
    const volume = context.mounts.get(mount.name);
    if (!volume) throw new Error(`${where}: volumeMount ${mount.name} names no volume of the Pod`);
    if (mount.subPath !== undefined) throw new Error(`${where}: subPath mounts are not supported`);
    const readOnly = volume.readOnly || mount.readOnly === true;
    args.push(
      '--mount',
      `type=${volume.type},src=${volume.source},dst=${mount.mountPath}${readOnly ? ',readonly' : ''}`,
    );
  }
  if (container.workingDir) args.push('--workdir', container.workingDir);

  const [entrypoint, ...commandRest] = container.command ?? [];
  if (entrypoint !== undefined) args.push('--entrypoint', entrypoint);
  const argv = [...commandRest, ...(container.args ?? [])];

  for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe])
    if (probe && !probe.httpGet) throw new Error(`${where}: only httpGet probes are supported`);
  // The app's readiness stands in for "started": the Pod drives traffic only once it is ready.
  const gate = container.startupProbe ?? (role === 'app' ? container.readinessProbe : undefined);
  return {
    name: container.name,
    role,
    image: container.image,
    baseName: `${context.podName}-${container.name}`,
    runArgs: args,
    argv,
    ...(gate ? probeTiming(gate, container, context) : {}),
  };
}

function probeTiming(probe: K8sProbe, container: K8sContainer, context: TranslateContext) {
  const http = probe.httpGet!;
  const port = resolvePort(http.port, [container]);
  const period = (probe.periodSeconds ?? 10) * 1000;
  return {
    startupProbe: `${context.forwards.url(port)}${http.path ?? '/'}`,
    startupProbeIntervalMs: period,
    startupTimeoutMs: (probe.initialDelaySeconds ?? 0) * 1000 + (probe.failureThreshold ?? 3) * period,
  };
}

function resolvePort(port: number | string, containers: readonly K8sContainer[]): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  for (const container of containers)
    for (const entry of container.ports ?? []) if (entry.name === port) return entry.containerPort;
  throw new Error(`no container port is named ${port}`);
}

function envValue(variable: K8sEnvVar, context: TranslateContext, where: string): string {
  if (variable.value !== undefined) return variable.value;
  const from = variable.valueFrom;
  const field = from?.fieldRef?.fieldPath;
  if (field !== undefined) {
    const value = downwardField(field, context.manifest, context.identity);
    if (value === undefined)
      throw new Error(`${where}: env ${variable.name}: fieldRef ${field} is not supported`);
    return value;
  }
  const ref = from?.configMapKeyRef ?? from?.secretKeyRef;
  if (ref) {
    const source = from?.secretKeyRef ? context.manifest.secrets : context.manifest.configMaps;
    const value = source.get(ref.name)?.[ref.key];
    if (value === undefined && !ref.optional)
      throw new Error(`${where}: env ${variable.name}: key ${ref.key} of ${ref.name} is not in the manifest`);
    return value ?? '';
  }
  if (from === undefined) return '';
  throw new Error(
    `${where}: env ${variable.name}: only value, fieldRef, configMapKeyRef and secretKeyRef are supported`,
  );
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A Kubernetes memory quantity (`512Mi`, `1G`, `134217728`) in bytes. */
export function quantityBytes(quantity: string | number, where = 'quantity'): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(quantity));
  if (!match) throw new Error(`${where}: ${JSON.stringify(quantity)} is not a memory quantity (e.g. 128Mi)`);
  const unit = match[2] ?? '';
  return Math.round(Number(match[1]) * (BINARY[unit] ?? DECIMAL[unit]!));
}

/** A Kubernetes CPU quantity (`500m`, `1`, `0.25`) in CPUs. */
export function cpuQuantity(quantity: string | number, where = 'quantity'): number {
  const match = /^(\d+(?:\.\d+)?)(m)?$/.exec(String(quantity));
  if (!match) throw new Error(`${where}: ${JSON.stringify(quantity)} is not a CPU quantity (e.g. 500m)`);
  return match[2] ? Number(match[1]) / 1000 : Number(match[1]);
}
