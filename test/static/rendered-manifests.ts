// What `kubectl kustomize` makes of every kustomization under k8s/ and of the user-workload fixtures
// (the agent-sidecars Component applied to someone else's Deployment, StatefulSet, Job and CronJob), for
// the static deployment checks.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandProbe, type ToolProbe } from '@agent-sidecars/shared/testing';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const K8S_DIR = join(REPO_ROOT, 'k8s');

/** A Kubernetes object as rendered; the checks read it structurally. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/**
 * Folders outside k8s/ whose kustomizations use the Components the way a user's own would: workloads
 * labelled for the Component, and a workload selected by name (with its app container named).
 */
export const FIXTURE_DIRS = ['test/static/fixtures/by-name', 'test/static/fixtures/user-workloads'] as const;

/** The directory all the fixtures live in, and the path by which their kustomizations reach k8s/components. */
const FIXTURES_PARENT = 'test/static/fixtures';
export const FIXTURE_COMPONENTS_PATH = '../../../../k8s/components/';

/** kubectl renders the kustomizations; for `requireTool('kubectl', KUBECTL)`. */
export const KUBECTL: ToolProbe = {
  probe: commandProbe('kubectl', ['version', '--client']),
  install:
    'apt-get install kubectl (from the Kubernetes apt repository), or the static binary from dl.k8s.io',
};

/** Every folder under k8s/ holding a kustomization.yaml, relative to the repository root. */
export function kustomizationDirs(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (existsSync(join(dir, 'kustomization.yaml'))) found.push(relative(REPO_ROOT, dir));
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
    }
  };
  walk(K8S_DIR);
  return found.sort();
}

/** Whether DIR's kustomization.yaml is a kustomize Component, which is used by others, never built alone. */
export function isComponent(dir: string): boolean {
  return /^kind:\s*Component\s*$/m.test(readFileSync(join(REPO_ROOT, dir, 'kustomization.yaml'), 'utf8'));
}

/** Every kustomization `kubectl kustomize` can build: those under k8s/ that are no Component, and the fixtures. */
export function buildableDirs(): string[] {
  return [...kustomizationDirs().filter((dir) => !isComponent(dir)), ...FIXTURE_DIRS];
}

const cache = new Map<string, KubeObject[]>();

/** Runs `kubectl kustomize DIR` (relative to the repository, or absolute) and parses every object it prints. */
export function render(dir: string): KubeObject[] {
  const hit = cache.get(dir);
  if (hit) return hit;
  const run = spawnSync('kubectl', ['kustomize', resolve(REPO_ROOT, dir)], { encoding: 'utf8' });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${run.stderr.trim()}`);
  const objects = parseAllDocuments(run.stdout).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${dir}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as KubeObject;
  });
  cache.set(dir, objects);
  return objects;
}

export interface Probe {
  httpGet?: { path?: string; port: number | string };
  tcpSocket?: { port: number | string };
  grpc?: { port: number };
  exec?: unknown;
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  restartPolicy?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
    seccompProfile?: { type: string };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface PodSpec {
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  initContainers?: Container[];
  containers: Container[];
  volumes?: {
    name: string;
    emptyDir?: { sizeLimit?: string };
    configMap?: { name: string };
    secret?: { secretName: string };
  }[];
}

/** On a workload whose app container is not the first of `containers`: that container's name. */
export const APP_CONTAINER_ANNOTATION = 'agent-sidecars.io/app-container';

export interface Workload {
  where: string;
  object: KubeObject;
  annotations: Record<string, string>;
  pod: PodSpec;
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: PodSpec;
}

/** A workload's Pod template: spec.template, or for a CronJob spec.jobTemplate.spec.template. */
export function podTemplateOf(object: KubeObject): PodTemplate | undefined {
  const spec = object.spec as
    | { template?: PodTemplate; jobTemplate?: { spec?: { template?: PodTemplate } } }
    | undefined;
  return object.kind === 'CronJob' ? spec?.jobTemplate?.spec?.template : spec?.template;
}

/** The Pod templates of every Deployment, StatefulSet, DaemonSet, Job or CronJob rendered from DIR. */
export function workloadsOf(dir: string): Workload[] {
  return render(dir).flatMap((object) => {
    const template = podTemplateOf(object);
    const pod = template?.spec;
    if (!pod) return [];
    return [
      {
        where: `${dir}: ${object.kind}/${object.metadata.name}`,
        object,
        annotations: template.metadata?.annotations ?? {},
        pod,
      },
    ];
  });
}

/** The parsed config file a sidecar reads (`--config PATH`) from its mounted ConfigMap, or {}. */
export function sidecarConfig(dir: string, pod: PodSpec, container: Container): Record<string, unknown> {
  const args = container.args ?? [];
  const at = args.indexOf('--config');
  if (at < 0) return {};
  const path = args[at + 1] ?? '';
  const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
  const volume = pod.volumes?.find((v) => v.name === mount?.name);
  if (!mount || !volume?.configMap)
    throw new Error(`${container.name}: --config ${path} is not on a ConfigMap mount`);
  const configMap = render(dir).find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name === volume.configMap?.name,
  );
  if (!configMap) throw new Error(`${container.name}: ConfigMap ${volume.configMap.name} is not rendered`);
  const key = path.slice(mount.mountPath.length + 1);
  const text = (configMap.data as Record<string, string> | undefined)?.[key];
  if (text === undefined)
    throw new Error(`${container.name}: ConfigMap ${volume.configMap.name} has no key ${key}`);
  const [doc] = parseAllDocuments(text);
  return (doc?.toJS() ?? {}) as Record<string, unknown>;
}

/** A sidecar duration ("25s", "500ms", "1m") in milliseconds. */
export function durationMs(raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(raw.trim());
  if (!match) throw new Error(`"${raw}" is not a duration like 25s, 500ms or 1m`);
  const factor = { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
  return Number(match[1]) * factor;
}

/** The app container the Components serve: the one the workload's annotation names, else the first. */
export function appContainerName(w: Workload): string | undefined {
  return w.object.metadata.annotations?.[APP_CONTAINER_ANNOTATION] ?? w.pod.containers[0]?.name;
}

/**
 * What is wrong with how the app container shares the log volume mounted at LOG_DIR in the sidecars, one
 * line each: a patch or replacement that names a container the workload lacks creates one without an
 * image (kustomize does not fail, the API server would); the app container must mount the volume, and no
 * other container of `containers` may.
 */
export function appContainerProblems(w: Workload, logDir: string): string[] {
  const problems: string[] = [];
  for (const c of [...(w.pod.initContainers ?? []), ...w.pod.containers]) {
    if (!c.image)
      problems.push(
        `${w.where}: container "${c.name}" has no image: a patch or replacement names a container the workload does not have`,
      );
  }
  const volume = w.pod.initContainers
    ?.find((c) => c.name === 'log-sidecar')
    ?.volumeMounts?.find((m) => m.mountPath === logDir)?.name;
  const mounts = (c: Container): boolean =>
    (c.volumeMounts ?? []).some((m) => m.name === volume && m.mountPath === logDir);
  const name = appContainerName(w);
  const app = w.pod.containers.find((c) => c.name === name);
  if (!app) {
    const names = w.pod.containers
      .map((c) => c.name)
      .sort()
      .join(', ');
    problems.push(
      `${w.where}: ${APP_CONTAINER_ANNOTATION} names "${name}", which is none of its containers (${names})`,
    );
  } else if (!mounts(app)) {
    problems.push(`${w.where}: the app container "${name}" does not mount the log volume at ${logDir}`);
  }
  for (const c of w.pod.containers) {
    if (c.name !== name && mounts(c))
      problems.push(
        `${w.where}: container "${c.name}" mounts the log volume, but the app container is "${name}"`,
      );
  }
  return problems;
}

/**
 * Renders a fixture copied with k8s/components into a temporary WORK folder, after EDIT has changed the
 * copy (a file relative to the copy's root, and its text): for checks of what a broken Component or a
 * broken user kustomization renders to.
 */
export function renderEditedCopy(
  work: string,
  fixture: (typeof FIXTURE_DIRS)[number],
  edit: { file: string; change: (text: string) => string },
): KubeObject[] {
  cpSync(K8S_DIR, join(work, 'k8s'), { recursive: true });
  const copy = join(work, FIXTURES_PARENT);
  cpSync(join(REPO_ROOT, FIXTURES_PARENT), copy, { recursive: true });
  const path = join(work, edit.file);
  const text = readFileSync(path, 'utf8');
  const changed = edit.change(text);
  if (changed === text) throw new Error(`the edit of ${edit.file} changed nothing`);
  writeFileSync(path, changed);
  return render(join(work, fixture));
}
