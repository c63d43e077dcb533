// The properties of the rendered Pods that make the sidecars work as designed; each failure names the
// workload and container.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@agent-sidecars/shared/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  APP_CONTAINER_ANNOTATION,
  appContainerName,
  appContainerProblems,
  buildableDirs,
  type Container,
  durationMs,
  FIXTURE_DIRS,
  KUBECTL,
  type KubeObject,
  type PodSpec,
  type Probe,
  podTemplateOf,
  REPO_ROOT,
  render,
  renderEditedCopy,
  sidecarConfig,
  type Workload,
  workloadsOf,
} from './rendered-manifests.js';

const SIDECARS = ['log-sidecar', 'metrics-sidecar'] as const;
const LOG_DIR = '/var/log/agent';
// The sidecars' own defaults when neither config nor flag sets one (packages/*/README.md).
const DEFAULT_SHUTDOWN_MS: Record<string, number> = { 'log-sidecar': 25_000, 'metrics-sidecar': 10_000 };
const DEFAULT_LISTEN: Record<string, number> = { 'log-sidecar': 9091, 'metrics-sidecar': 9090 };

const skipReason = requireTool('kubectl', KUBECTL).missing;
// Workloads of the user fixtures are someone else's: only what the Component adds is checked there.
const isExample = (dir: string): boolean => dir.startsWith('k8s/');

const isSidecar = (c: Container): boolean => (SIDECARS as readonly string[]).includes(c.name);
const allContainers = (pod: PodSpec): Container[] => [...(pod.initContainers ?? []), ...pod.containers];
const probesOf = (c: Container): [string, Probe][] =>
  (['startupProbe', 'readinessProbe', 'livenessProbe'] as const).flatMap((k) =>
    c[k] ? [[k, c[k]] as [string, Probe]] : [],
  );

/** The container port number a probe targets, resolved through the container's own named ports. */
function probePort(c: Container, probe: Probe): number | undefined {
  const port = probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
  if (typeof port === 'number') return port;
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

function flagValue(c: Container, flag: string): string | undefined {
  const args = c.args ?? [];
  const at = args.indexOf(flag);
  if (at >= 0) return args[at + 1];
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

function shutdownTimeoutMs(w: Workload, dir: string, c: Container): number {
  const raw = flagValue(c, '--shutdown-timeout') ?? sidecarConfig(dir, w.pod, c).shutdownTimeout;
  return raw === undefined ? DEFAULT_SHUTDOWN_MS[c.name]! : durationMs(String(raw));
}

function listenPort(w: Workload, dir: string, c: Container): number {
  const raw = flagValue(c, '--listen') ?? sidecarConfig(dir, w.pod, c).listen;
  if (raw === undefined) return DEFAULT_LISTEN[c.name]!;
  return Number(String(raw).split(':').pop());
}

const isPatched = (w: Workload): boolean => (w.pod.initContainers ?? []).some(isSidecar);

describe.skipIf(skipReason !== undefined)('Pod invariants of every rendered workload', () => {
  // Every workload the Components patch, however it was selected (its label, or a patch by name).
  const cases = skipReason
    ? []
    : buildableDirs().flatMap((dir) =>
        workloadsOf(dir)
          .filter(isPatched)
          .map((w) => ({ dir, w, name: w.where })),
      );

  it('has a workload in every kustomization, and the Component applied to each user workload', () => {
    expect(cases.map((c) => c.name)).toEqual([
      'k8s/base: Deployment/agent',
      'k8s/job: Job/agent-batch',
      'k8s/overlays/loki: Deployment/agent',
      'k8s/overlays/production: Deployment/agent',
      'k8s/overlays/stdout: Deployment/agent',
      'test/static/fixtures/by-name: Deployment/billing-agent',
      'test/static/fixtures/user-workloads: Deployment/shop-api',
      'test/static/fixtures/user-workloads: StatefulSet/ledger',
      'test/static/fixtures/user-workloads: CronJob/nightly-export',
      'test/static/fixtures/user-workloads: DaemonSet/node-probe',
      'test/static/fixtures/user-workloads: Job/report',
    ]);
    // The selection is the label, as written or as a patch by name added it before the Component ran.
    for (const { w } of cases)
      expect(w.object.metadata.labels?.['agent-sidecars.io/inject'], w.where).toBe('true');
  });

  // What each fixture's workloads.yaml holds that the Component must not touch: unlabelled workloads,
  // one whose name only starts like a selected one's, and Services (labelled or named like a workload).
  const UNSELECTED: Record<(typeof FIXTURE_DIRS)[number], string[]> = {
    'test/static/fixtures/by-name': ['Deployment/billing-agent-canary', 'Service/billing-agent'],
    'test/static/fixtures/user-workloads': ['Deployment/unrelated', 'Service/shop-api'],
  };

  it.each(FIXTURE_DIRS)('%s: leaves what is not selected exactly as written', (dir) => {
    const written = parseAllDocuments(readFileSync(join(REPO_ROOT, dir, 'workloads.yaml'), 'utf8')).map(
      (doc) => doc.toJS() as KubeObject,
    );
    const patched = new Set(
      workloadsOf(dir)
        .filter(isPatched)
        .map((w) => `${w.object.kind}/${w.object.metadata.name}`),
    );
    const unselected = written.filter((o) => !patched.has(`${o.kind}/${o.metadata.name}`));
    expect(unselected.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(UNSELECTED[dir]);
    for (const object of unselected) {
      const out = render(dir).find((o) => o.kind === object.kind && o.metadata.name === object.metadata.name);
      expect(out, `${object.kind}/${object.metadata.name}`).toEqual(object);
    }
  });

  describe.each(cases)('$name', ({ dir, w }) => {
    const sidecars = (w.pod.initContainers ?? []).filter(isSidecar);

    it('runs the sidecars as native sidecars, log-sidecar declared first, the app in containers', () => {
      expect(w.pod.containers.filter(isSidecar).map((c) => c.name)).toEqual([]);
      expect(sidecars.length).toBeGreaterThan(0);
      for (const c of sidecars) expect(c.restartPolicy, c.name).toBe('Always');
      // Declared first of the sidecars: started first and, in reverse order, stopped last, after every
      // other container. A user's own init containers stay in front and run to completion first.
      expect(sidecars[0]?.name).toBe('log-sidecar');
      const names = (w.pod.initContainers ?? []).map((c) => c.name);
      expect(names.slice(-sidecars.length)).toEqual(sidecars.map((c) => c.name));
      if (isExample(dir)) expect(w.pod.containers.map((c) => c.name)).toEqual(['agent']);
    });

    it('probes each sidecar on its own port and endpoints, never on the app', () => {
      const appPorts = new Set(w.pod.containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)));
      for (const c of sidecars) {
        const probes = probesOf(c);
        expect(probes.map(([kind]) => kind).sort(), c.name).toEqual([
          'livenessProbe',
          'readinessProbe',
          'startupProbe',
        ]);
        const own = new Set((c.ports ?? []).map((p) => p.containerPort));
        for (const [kind, probe] of probes) {
          const port = probePort(c, probe);
          expect(port, `${c.name} ${kind} targets a port it does not declare`).toBeDefined();
          expect(own.has(port!), `${c.name} ${kind} port ${port}`).toBe(true);
          expect(appPorts.has(port!), `${c.name} ${kind} probes the app's port ${port}`).toBe(false);
          expect(port, `${c.name} ${kind}: the sidecar listens elsewhere`).toBe(listenPort(w, dir, c));
          expect(['/livez', '/readyz']).toContain(probe.httpGet?.path);
        }
        // A liveness probe on readiness would restart a sidecar that is draining on purpose.
        expect(c.livenessProbe?.httpGet?.path, c.name).toBe('/livez');
      }
      for (const c of w.pod.containers) {
        const own = new Set((c.ports ?? []).map((p) => p.containerPort));
        for (const [kind, probe] of probesOf(c))
          expect(own.has(probePort(c, probe)!), `${c.name} ${kind}`).toBe(true);
      }
    });

    it('stops the sidecars within the grace period, one after the other', () => {
      const grace = (w.pod.terminationGracePeriodSeconds ?? 30) * 1000;
      let total = 0;
      for (const c of sidecars) {
        const timeout = shutdownTimeoutMs(w, dir, c);
        expect(timeout, `${c.name} shutdownTimeout`).toBeLessThan(grace);
        total += timeout;
      }
      // The kubelet stops sidecars in turn after the app, all inside one terminationGracePeriodSeconds.
      expect(total, 'sum of the sidecars shutdown timeouts').toBeLessThan(grace);
    });

    it(`mounts one size-limited emptyDir at ${LOG_DIR} in the sidecars and the app, where the log-sidecar reads`, () => {
      // The app container: the first, or the one the workload's annotation names. It alone of
      // `containers` has the volume, and no patch added a container by a wrong name.
      expect(appContainerProblems(w, LOG_DIR)).toEqual([]);
      const app = w.pod.containers.find((c) => c.name === appContainerName(w))!;
      const mounts = [...sidecars, app].map((c) => {
        const mount = c.volumeMounts?.filter((m) => m.mountPath === LOG_DIR) ?? [];
        expect(mount.length, `${c.name} mounts ${LOG_DIR}`).toBe(1);
        return mount[0]!.name;
      });
      expect(new Set(mounts).size).toBe(1);
      const volume = w.pod.volumes?.find((v) => v.name === mounts[0]);
      expect(volume?.emptyDir?.sizeLimit, 'emptyDir.sizeLimit').toBeTruthy();
      const logSidecar = sidecars.find((c) => c.name === 'log-sidecar')!;
      const paths = sidecarConfig(dir, w.pod, logSidecar).path as string[];
      expect(paths.length).toBeGreaterThan(0);
      for (const p of paths) expect(p.startsWith(`${LOG_DIR}/`), p).toBe(true);
      const agentLog = app.env?.find((e) => e.name === 'LOG_FILE')?.value;
      expect(agentLog?.startsWith(`${LOG_DIR}/`), `agent LOG_FILE ${agentLog}`).toBe(true);
    });

    it("gives the log-sidecar the Pod's labels and annotations in a Downward API volume at --pod-labels-file", () => {
      const logSidecar = sidecars.find((c) => c.name === 'log-sidecar')!;
      const labelsFile = String(sidecarConfig(dir, w.pod, logSidecar).podLabelsFile ?? '/etc/podinfo/labels');
      const mount = logSidecar.volumeMounts?.find((m) => labelsFile.startsWith(`${m.mountPath}/`));
      expect(mount, `a mount holding ${labelsFile}`).toBeDefined();
      const volume = w.pod.volumes?.find((v) => v.name === mount?.name) as
        | { downwardAPI?: { items: { path: string; fieldRef: { fieldPath: string } }[] } }
        | undefined;
      const items = Object.fromEntries(
        (volume?.downwardAPI?.items ?? []).map((i) => [i.path, i.fieldRef.fieldPath]),
      );
      expect(items).toEqual({ labels: 'metadata.labels', annotations: 'metadata.annotations' });
      expect(labelsFile.slice(mount!.mountPath.length + 1)).toBe('labels');
    });

    it('runs every container non-root, read-only, without capabilities, under RuntimeDefault seccomp', () => {
      expect(w.pod.securityContext?.runAsNonRoot).toBe(true);
      expect(w.pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      for (const c of isExample(dir) ? allContainers(w.pod) : sidecars) {
        const sc = c.securityContext;
        expect(sc?.runAsNonRoot, c.name).toBe(true);
        expect(sc?.runAsUser, `${c.name} runAsUser`).toBeGreaterThan(0);
        expect(sc?.readOnlyRootFilesystem, c.name).toBe(true);
        expect(sc?.allowPrivilegeEscalation, c.name).toBe(false);
        expect(sc?.capabilities?.drop, c.name).toEqual(['ALL']);
        expect(sc?.seccompProfile?.type, c.name).toBe('RuntimeDefault');
      }
    });

    it('gives every container requests and limits, and the sidecars the Downward API identity', () => {
      for (const c of isExample(dir) ? allContainers(w.pod) : sidecars) {
        expect(c.resources?.requests?.cpu && c.resources.requests.memory, `${c.name} requests`).toBeTruthy();
        expect(c.resources?.limits?.memory, `${c.name} memory limit`).toBeTruthy();
      }
      const fieldOf = (c: Container, name: string) =>
        c.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
      for (const c of sidecars) {
        expect(fieldOf(c, 'POD_NAME'), c.name).toBe('metadata.name');
        expect(fieldOf(c, 'POD_NAMESPACE'), c.name).toBe('metadata.namespace');
        expect(fieldOf(c, 'NODE_NAME'), c.name).toBe('spec.nodeName');
        // The OTLP sink's k8s.pod.uid.
        expect(fieldOf(c, 'POD_UID'), c.name).toBe('metadata.uid');
      }
    });

    it('points the scrape annotations at the metrics-sidecar port named "metrics"', () => {
      const metrics = sidecars.find((c) => c.name === 'metrics-sidecar');
      if (!metrics) {
        // Only the example batch Job, which serves no metrics, goes without (the log-sidecar Component alone).
        expect(w.where).toBe('k8s/job: Job/agent-batch');
        expect(w.annotations['prometheus.io/scrape']).toBeUndefined();
        return;
      }
      expect(w.annotations['prometheus.io/scrape']).toBe('true');
      const named = metrics.ports?.find((p) => p.name === 'metrics');
      expect(named?.containerPort).toBe(Number(w.annotations['prometheus.io/port']));
      expect(named?.containerPort).toBe(listenPort(w, dir, metrics));
      const targets = (sidecarConfig(dir, w.pod, metrics).target as string[]) ?? [];
      expect(targets.some((t) => /^[\w-]+=http:\/\/127\.0\.0\.1:\d+\/metrics$/.test(t))).toBe(true);
    });

    it('lets a Job finish: its Pod never restarts', () => {
      if (w.object.kind !== 'Job' && w.object.kind !== 'CronJob') return;
      expect(['Never', 'OnFailure']).toContain(w.pod.restartPolicy);
    });
  });
});

describe.skipIf(skipReason !== undefined)('a workload selected by name', () => {
  const work = mkdtempSync(join(tmpdir(), 'k8s-by-name-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // Why the README has the user list a Component of their own first: kustomize applies Components
  // before the patches of the kustomization listing them, so the same patch there labels the workload
  // but too late. (If a kustomize release changes that, this fails, and the README can say less.)
  it('gets no sidecars from the same label patch beside components:', () => {
    const fixture = 'test/static/fixtures/by-name';
    renderEditedCopy(work, fixture, {
      file: `${fixture}/kustomization.yaml`,
      change: (text) =>
        `${text.replace('  - select\n', '')}patches:
  - target: {kind: Deployment, name: billing-agent}
    patch: '{kind: Deployment, metadata: {name: billing-agent, labels: {agent-sidecars.io/inject: "true"}}}'
`,
    });
    const [w] = workloadsOf(join(work, fixture)).filter((x) => x.object.metadata.name === 'billing-agent');
    expect(w?.object.metadata.labels?.['agent-sidecars.io/inject']).toBe('true');
    expect(w && isPatched(w)).toBe(false);
  });
});

describe.skipIf(skipReason !== undefined)('an app container that is not the first', () => {
  const work = mkdtempSync(join(tmpdir(), 'k8s-app-container-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** The problems of WORKLOAD once EDIT has changed a copy of the fixtures. */
  function problemsAfter(
    fixture: (typeof FIXTURE_DIRS)[number],
    workload: string,
    edit: Parameters<typeof renderEditedCopy>[2],
  ): string[] {
    const copy = mkdtempSync(join(work, 'copy-'));
    renderEditedCopy(copy, fixture, edit);
    const w = workloadsOf(join(copy, fixture)).find(
      (x) => `${x.object.kind}/${x.object.metadata.name}` === workload,
    );
    if (!w) throw new Error(`${workload} is not rendered`);
    return appContainerProblems(w, LOG_DIR).map((line) => line.replace(`${w.where}: `, ''));
  }

  const select = 'test/static/fixtures/by-name/select/kustomization.yaml';

  it('is caught, with the name, when the patch that mounts the volume misspells it', () => {
    expect(
      problemsAfter('test/static/fixtures/by-name', 'Deployment/billing-agent', {
        file: select,
        change: (text) => text.replace('containers: [{name: billing,', 'containers: [{name: biling,'),
      }),
    ).toEqual([
      'container "biling" has no image: a patch or replacement names a container the workload does not have',
      'the app container "billing" does not mount the log volume at /var/log/agent',
      'container "biling" mounts the log volume, but the app container is "billing"',
    ]);
  });

  it(`is caught when ${APP_CONTAINER_ANNOTATION} names a container the workload does not have`, () => {
    expect(
      problemsAfter('test/static/fixtures/by-name', 'Deployment/billing-agent', {
        file: select,
        change: (text) =>
          text.replace(`${APP_CONTAINER_ANNOTATION}: billing}`, `${APP_CONTAINER_ANNOTATION}: biling}`),
      }),
    ).toEqual([
      `${APP_CONTAINER_ANNOTATION} names "biling", which is none of its containers (billing, cloud-sql-proxy)`,
      'container "billing" mounts the log volume, but the app container is "biling"',
    ]);
  });

  it(`gets the volume alone only with ${APP_CONTAINER_ANNOTATION}: without it the first container has it too`, () => {
    expect(
      problemsAfter('test/static/fixtures/user-workloads', 'StatefulSet/ledger', {
        file: 'test/static/fixtures/user-workloads/workloads.yaml',
        change: (text) => text.replace(`  annotations:\n    ${APP_CONTAINER_ANNOTATION}: ledger\n`, ''),
      }),
    ).toEqual(['container "ledger" mounts the log volume, but the app container is "backup"']);
  });
});

describe.skipIf(skipReason !== undefined)('Services in front of native sidecars', () => {
  const dirs = skipReason ? [] : buildableDirs();

  // Kubernetes before 1.32 gives a Service no endpoints for a named targetPort that only an init
  // container declares (kubernetes#127958): such a port must be given by number.
  it.each(dirs)('%s: names no targetPort that only an init container declares', (dir) => {
    const initPortNames = new Set(
      workloadsOf(dir).flatMap((w) =>
        (w.pod.initContainers ?? []).flatMap((c) => (c.ports ?? []).flatMap((p) => (p.name ? [p.name] : []))),
      ),
    );
    const named = render(dir)
      .filter((o) => o.kind === 'Service')
      .flatMap((o) =>
        ((o.spec as { ports?: { targetPort?: number | string }[] }).ports ?? []).map((p) => p.targetPort),
      )
      .filter((port): port is string => typeof port === 'string' && initPortNames.has(port));
    expect(named).toEqual([]);
  });
});

describe.skipIf(skipReason !== undefined)('the PodMonitor of the prometheus-operator Component', () => {
  it("scrapes the metrics-sidecar port of the Pods it selects, at the sidecar's own interval", () => {
    const dir = 'k8s/overlays/production';
    const monitors = render(dir).filter((o) => o.kind === 'PodMonitor');
    expect(monitors.length).toBe(1);
    const spec = monitors[0]!.spec as {
      selector: { matchLabels: Record<string, string> };
      podMetricsEndpoints: { port: string; path: string; interval: string; scrapeTimeout: string }[];
    };
    const [w] = workloadsOf(dir);
    const podLabels = podTemplateOf(w!.object)?.metadata?.labels ?? {};
    for (const [key, value] of Object.entries(spec.selector.matchLabels))
      expect(podLabels[key], key).toBe(value);
    const metrics = w!.pod.initContainers!.find((c) => c.name === 'metrics-sidecar')!;
    const config = sidecarConfig(dir, w!.pod, metrics);
    const [endpoint] = spec.podMetricsEndpoints;
    expect(metrics.ports?.find((p) => p.name === endpoint?.port)?.containerPort).toBe(
      listenPort(w!, dir, metrics),
    );
    expect(endpoint?.path).toBe(w!.annotations['prometheus.io/path']);
    expect(durationMs(endpoint!.interval)).toBe(durationMs(String(config.interval)));
    expect(durationMs(endpoint!.scrapeTimeout)).toBeLessThan(durationMs(endpoint!.interval));
  });
});
