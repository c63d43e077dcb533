// The properties of the rendered Pods that make the sidecars work as designed; each failure names the
// workload and container.
import { requireTool } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import {
  type Container,
  durationMs,
  KUBECTL,
  kustomizationDirs,
  type PodSpec,
  type Probe,
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

describe.skipIf(skipReason !== undefined)('Pod invariants of every rendered workload', () => {
  const cases = skipReason
    ? []
    : kustomizationDirs().flatMap((dir) => workloadsOf(dir).map((w) => ({ dir, w, name: w.where })));

  it('has a workload in every kustomization', () => {
    expect(cases.map((c) => c.name)).toEqual([
      'k8s/base: Deployment/agent',
      'k8s/job: Job/agent-batch',
      'k8s/overlays/loki: Deployment/agent',
      'k8s/overlays/stdout: Deployment/agent',
    ]);
  });

  describe.each(cases)('$name', ({ dir, w }) => {
    const sidecars = (w.pod.initContainers ?? []).filter(isSidecar);

    it('runs the sidecars as native sidecars, log-sidecar declared first, the app in containers', () => {
      expect(w.pod.containers.filter(isSidecar).map((c) => c.name)).toEqual([]);
      expect(sidecars.length).toBeGreaterThan(0);
      for (const c of sidecars) expect(c.restartPolicy, c.name).toBe('Always');
      // Declared first: started first and, in reverse order, stopped last, after every other container.
      expect(w.pod.initContainers?.[0]?.name).toBe('log-sidecar');
      expect(w.pod.containers.map((c) => c.name)).toEqual(['agent']);
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

    it(`mounts one size-limited emptyDir at ${LOG_DIR} in every container, where the log-sidecar reads`, () => {
      const mounts = allContainers(w.pod).map((c) => {
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
      const agentLog = w.pod.containers[0]!.env?.find((e) => e.name === 'LOG_FILE')?.value;
      expect(agentLog?.startsWith(`${LOG_DIR}/`), `agent LOG_FILE ${agentLog}`).toBe(true);
    });

    it('runs every container non-root, read-only, without capabilities, under RuntimeDefault seccomp', () => {
      expect(w.pod.securityContext?.runAsNonRoot).toBe(true);
      expect(w.pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      for (const c of allContainers(w.pod)) {
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
      for (const c of allContainers(w.pod)) {
        expect(c.resources?.requests?.cpu && c.resources.requests.memory, `${c.name} requests`).toBeTruthy();
        expect(c.resources?.limits?.memory, `${c.name} memory limit`).toBeTruthy();
      }
      const fieldOf = (c: Container, name: string) =>
        c.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
      for (const c of sidecars) {
        expect(fieldOf(c, 'POD_NAME'), c.name).toBe('metadata.name');
        expect(fieldOf(c, 'POD_NAMESPACE'), c.name).toBe('metadata.namespace');
        expect(fieldOf(c, 'NODE_NAME'), c.name).toBe('spec.nodeName');
      }
    });

    it('points the scrape annotations at the metrics-sidecar port named "metrics"', () => {
      const metrics = sidecars.find((c) => c.name === 'metrics-sidecar');
      if (!metrics) {
        // Only a workload without a metrics endpoint (the batch Job) may go without.
        expect(w.object.kind).toBe('Job');
        expect(w.annotations['prometheus.io/scrape']).toBeUndefined();
        return;
      }
      expect(w.annotations['prometheus.io/scrape']).toBe('true');
      const named = metrics.ports?.find((p) => p.name === 'metrics');
      expect(named?.containerPort).toBe(Number(w.annotations['prometheus.io/port']));
      expect(named?.containerPort).toBe(listenPort(w, dir, metrics));
      const targets = (sidecarConfig(dir, w.pod, metrics).target as string[]) ?? [];
      expect(targets.some((t) => t.endsWith('127.0.0.1:8000/metrics'))).toBe(true);
    });

    it('lets a Job finish: its Pod never restarts', () => {
      if (w.object.kind !== 'Job') return;
      expect(['Never', 'OnFailure']).toContain(w.pod.restartPolicy);
    });
  });
});
