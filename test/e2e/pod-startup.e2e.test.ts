import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, type PodEvent, probePasses } from '../../packages/pod-runner/src/index.js';
import { assertBuilt, cleanUp, noFastApiReason, startPod } from './pod-fixture.js';

beforeAll(assertBuilt);
afterEach(cleanUp);

function at(events: readonly PodEvent[], container: string, kind: PodEvent['kind']): number {
  const event = events.find((e) => e.container === container && e.kind === kind);
  if (!event) throw new Error(`no "${kind}" event for ${container}: ${JSON.stringify(events)}`);
  return event.at;
}

describe.skipIf(noFastApiReason !== undefined)('the Pod starts like the kubelet', () => {
  it("starts the agent only after both sidecars pass their startup probes, and neither sidecar's readiness depends on the agent", async () => {
    const { pod, spec } = await startPod({
      sidecarsOnly: true,
      metricsSidecar: { interval: '1s', timeout: '500ms' },
    });

    expect(await probePasses(`${spec.urls.agent}/healthz`)).toBe(false);
    // The metrics-sidecar has tried the absent agent and failed, and is still ready.
    await waitFor(
      "the metrics-sidecar's failed scrape of the absent agent",
      async () => {
        const { body } = await httpGet(`${spec.urls.metricsSidecar}/metrics`);
        return /^metrics_sidecar_scrape_failures_total\{[^}]*target="app"[^}]*\} [1-9]/m.test(body)
          ? true
          : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect((await httpGet(`${spec.urls.logSidecar}/readyz`)).status).toBe(200);
    expect((await httpGet(`${spec.urls.metricsSidecar}/readyz`)).status).toBe(200);

    await pod.startApp();
    const { events } = pod;
    expect(at(events, 'log-sidecar', 'probe passed')).toBeLessThanOrEqual(
      at(events, 'metrics-sidecar', 'started'),
    );
    expect(at(events, 'metrics-sidecar', 'probe passed')).toBeLessThanOrEqual(at(events, 'agent', 'started'));
    expect(events.filter((e) => e.kind === 'started').map((e) => e.container)).toEqual([
      'log-sidecar',
      'metrics-sidecar',
      'agent',
    ]);
    await waitFor(
      'the metrics-sidecar to serve the agent once it runs',
      async () => {
        const { body } = await httpGet(`${spec.urls.metricsSidecar}/metrics`);
        return /^metrics_sidecar_target_up\{target="app"\} 1$/m.test(body) ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );

    const report = await pod.terminate();
    expect(report.containers.map((c) => [c.name, c.exit.code])).toEqual([
      ['agent', 0],
      ['metrics-sidecar', 0],
      ['log-sidecar', 0],
    ]);
  });
});
