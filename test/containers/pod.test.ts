// The Pod of k8s/ in containers: the rendered Deployment and Job (kubectl kustomize output, read
// generically) run by the pod-runner's container backend with the kubelet's semantics, and the faults
// the Pod must survive.
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentClient,
  ContainerPod,
  configFileOf,
  httpGet,
  type PodEvent,
  parseShippedRecord,
  RecordLedger,
  type RenderedPod,
  requestIdOf,
  SteadyLoad,
} from '../../packages/pod-runner/src/index.js';
import { durationMs } from '../static/rendered-manifests.js';
import { dockerRun, engine, helperOf, noEngine, renderedWorkload, tempDir } from './kit.js';

const deployment = noEngine ? undefined : renderedWorkload('Deployment');
const job = noEngine ? undefined : renderedWorkload('Job');

interface Running {
  readonly pod: ContainerPod;
  /** What the log-sidecar printed on stdout, every instance of it. */
  readonly shipped: RecordLedger;
  readonly events: PodEvent[];
}

const pods: ContainerPod[] = [];
afterEach(async () => {
  await Promise.all(pods.splice(0).map((pod) => pod.dispose()));
});

/** The container whose image is ours by that repository name (the manifests' contract). */
function named(manifest: RenderedPod, repository: string): string {
  const all = [...(manifest.spec.initContainers ?? []), ...manifest.spec.containers];
  const found = all.find((container) => container.image.split(':')[0] === repository);
  if (!found) throw new Error(`${manifest.source} runs no ${repository} image`);
  return found.name;
}

async function create(manifest: RenderedPod): Promise<Running> {
  const shipped = new RecordLedger();
  const events: PodEvent[] = [];
  const logSidecar = named(manifest, 'agent-sidecars/log-sidecar');
  const pod = await ContainerPod.create({
    engine,
    manifest,
    dir: tempDir('asc-pod'),
    ...helperOf(manifest),
    onEvent: (event) => events.push(event),
    onLine: (container, stream, text) => {
      if (container === logSidecar && stream === 'stdout') shipped.add(parseShippedRecord(text));
    },
  });
  pods.push(pod);
  return { pod, shipped, events };
}

/** A field of a sidecar's config file (the ConfigMap its `--config` names). */
function configField(manifest: RenderedPod, repository: string, field: string): string {
  const name = named(manifest, repository);
  const container = [...(manifest.spec.initContainers ?? []), ...manifest.spec.containers].find(
    (c) => c.name === name,
  )!;
  const value = configFileOf(manifest, container)[field];
  if (typeof value !== 'string') throw new Error(`${name}'s config has no ${field}`);
  return value;
}

function shippedIds(shipped: RecordLedger): Set<string> {
  return new Set(shipped.records().map((record) => requestIdOf(record) ?? ''));
}

describe.skipIf(noEngine !== undefined)('the rendered Deployment as a Pod of containers', () => {
  it("starts in the kubelet's order, ships and serves, survives a killed log-sidecar, and stops in reverse order", async () => {
    const manifest = deployment!.pod;
    const { pod, shipped, events } = await create(manifest);
    const logSidecar = named(manifest, 'agent-sidecars/log-sidecar');
    await pod.pod.start();

    // Native sidecars in declared order, each started only after the previous passed its startup
    // probe; the app after all of them.
    const order = [...(manifest.spec.initContainers ?? []), ...manifest.spec.containers].map((c) => c.name);
    const at = (name: string, kind: PodEvent['kind']) =>
      events.find((event) => event.container === name && event.kind === kind)?.at ?? Number.NaN;
    for (let n = 1; n < order.length; n += 1) {
      expect(at(order[n]!, 'started'), `${order[n]} after ${order[n - 1]}`).toBeGreaterThanOrEqual(
        at(order[n - 1]!, 'probe passed'),
      );
    }

    const agentPort = manifest.spec.containers[0]!.ports![0]!.containerPort;
    const client = new AgentClient(pod.url(agentPort));
    try {
      const ids = Array.from({ length: 20 }, (_, n) => `pod-burst-${n + 1}`);
      expect((await client.burst(ids)).every((outcome) => outcome.status === 200)).toBe(true);
      await waitFor(
        'every burst line on the log-sidecar stdout',
        () => (ids.every((id) => shippedIds(shipped).has(id)) ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 100 },
      );

      // The Downward API and the plain env reached the log-sidecar: its records carry them as labels.
      const labels = shipped.records().find((record) => requestIdOf(record) === 'pod-burst-1')?.labels ?? {};
      expect(labels.pod).toBe(pod.podName);
      expect(labels.namespace).toBe(manifest.namespace);
      expect(labels.container).toBe(manifest.spec.containers[0]!.name);

      // The merged metrics on the metrics-sidecar's port (it scrapes at its configured interval).
      const metricsPort = named(manifest, 'agent-sidecars/metrics-sidecar');
      const metricsUrl = `${pod.url(
        [...(manifest.spec.initContainers ?? [])].find((c) => c.name === metricsPort)!.ports![0]!
          .containerPort,
      )}/metrics`;
      const interval = durationMs(configField(manifest, 'agent-sidecars/metrics-sidecar', 'interval'));
      await waitFor(
        "the agent's series on the metrics port",
        async () => {
          const { body } = await httpGet(metricsUrl);
          return /^agent_requests_total\{[^}]*path="\/inference"[^}]*status="200"[^}]*\} 20(\.0)?$/m.test(
            body,
          )
            ? true
            : undefined;
        },
        { timeoutMs: 2 * interval + 10_000, intervalMs: 250 },
      );

      // docker kill of the log-sidecar under steady load: restarted as restartPolicy: Always does, it
      // resumes from its checkpoint on the emptyDir, and no line the agent answered is lost.
      const load = new SteadyLoad(client, 'pod-steady', { concurrency: 2, ratePerSecond: 40 });
      await waitFor('some steady traffic', () => (load.count >= 40 ? true : undefined), {
        timeoutMs: 30_000,
      });
      const before = pod.pod.container(logSidecar);
      await dockerRun(['kill', before.id]);
      const after = await pod.pod.restarted(logSidecar, before);
      expect(after.id).not.toBe(before.id);
      const killedAt = load.count;
      await waitFor('traffic after the restart', () => (load.count >= killedAt + 40 ? true : undefined), {
        timeoutMs: 30_000,
      });
      const answered = await load.stop();
      expect(load.errors).toEqual([]);
      await waitFor(
        'every answered line shipped across both log-sidecar instances',
        () => (answered.every((id) => shippedIds(shipped).has(id)) ? true : undefined),
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      expect(events.some((event) => event.container === logSidecar && event.kind === 'restarting')).toBe(
        true,
      );

      // A last burst right before termination: shipped before the log-sidecar, stopped last, exits.
      const last = Array.from({ length: 10 }, (_, n) => `pod-last-${n + 1}`);
      expect((await client.burst(last)).every((outcome) => outcome.status === 200)).toBe(true);
    } finally {
      client.close();
    }
    const report = await pod.pod.terminate();
    // The app first, then the sidecars in reverse start order.
    expect(report.containers.map((c) => c.name)).toEqual([...order].reverse());
    for (const container of report.containers) {
      expect(container.exit.code, `${container.name}: ${container.lastLines.join('\n')}`).toBe(0);
      expect(container.killed, container.name).toBe(false);
      expect(container.alreadyExited, container.name).toBe(false);
    }
    for (let n = 1; n <= 10; n += 1)
      expect(shippedIds(shipped).has(`pod-last-${n}`), `pod-last-${n}`).toBe(true);
  });

  it("a killed agent's series leave the metrics port within two scrape intervals", async () => {
    const manifest = deployment!.pod;
    const { pod } = await create(manifest);
    await pod.pod.start();
    const agent = pod.pod.container(manifest.spec.containers[0]!.name);
    const metricsName = named(manifest, 'agent-sidecars/metrics-sidecar');
    const port = manifest.spec.initContainers!.find((c) => c.name === metricsName)!.ports![0]!.containerPort;
    const url = `${pod.url(port)}/metrics`;
    const interval = durationMs(configField(manifest, 'agent-sidecars/metrics-sidecar', 'interval'));
    await waitFor(
      "the agent's series",
      async () => (/^agent_requests_total/m.test((await httpGet(url)).body) ? true : undefined),
      { timeoutMs: 2 * interval + 10_000, intervalMs: 250 },
    );
    await dockerRun(['kill', agent.id]);
    const body = await waitFor(
      "the agent's series to leave",
      async () => {
        const { status, body } = await httpGet(url);
        return status === 200 && !/^agent_/m.test(body) ? body : undefined;
      },
      // The product's promise (staleAfter is two intervals): a target that stopped answering is not
      // served for longer; waiting longer would hide stale series.
      { timeoutMs: 2 * interval, intervalMs: 250 },
    );
    expect(body).toMatch(/^metrics_sidecar_target_up\{target="agent"\} 0$/m);
  });
});

describe.skipIf(noEngine !== undefined)('the rendered Job as a Pod of containers', () => {
  it('completes, its sidecars exit 0 in reverse order, and every line it wrote was delivered', async () => {
    const manifest = job!.pod;
    const { pod, shipped } = await create(manifest);
    const report = await pod.runToCompletion();
    const app = manifest.spec.containers[0]!.name;
    const agentLines = pod.pod.container(app).tail(20, 'stdout');
    const wrote = agentLines.map((line) => /^batch ([0-9a-f]+): wrote (\d+) lines$/.exec(line)).find(Boolean);
    expect(wrote, agentLines.join('\n')).toBeTruthy();
    const [, runId, count] = wrote!;
    const sidecars = (manifest.spec.initContainers ?? []).map((c) => c.name);
    expect(report.containers.map((c) => c.name)).toEqual([app, ...[...sidecars].reverse()]);
    expect(report.containers[0]!.exit.code).toBe(0);
    for (const container of report.containers.slice(1)) {
      expect(container.exit.code, `${container.name}: ${container.lastLines.join('\n')}`).toBe(0);
      expect(container.killed, container.name).toBe(false);
    }
    const delivered = [...shippedIds(shipped)].filter((id) => id.startsWith(`${runId}-`));
    expect(delivered.length).toBe(Number(count));
  });
});
