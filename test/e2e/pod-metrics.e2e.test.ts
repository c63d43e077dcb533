import { join } from 'node:path';
import { requireTool, waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { httpGet } from '../../packages/pod-runner/src/index.js';
import { assertBuilt, cleanUp, noFastApiReason, requestIds, startPod } from './pod-fixture.js';
import { PROMETHEUS_PROBE, PrometheusServer } from './prometheus-server.js';

beforeAll(assertBuilt);
const prometheusServers: PrometheusServer[] = [];
afterEach(async () => {
  for (const server of prometheusServers.splice(0)) await server.stop();
  await cleanUp();
});

const INTERVAL_MS = 1_000;
const skipReason = noFastApiReason ?? requireTool('prometheus', PROMETHEUS_PROBE).missing;

describe.skipIf(skipReason !== undefined)("the Pod's merged metrics with a real Prometheus", () => {
  it("stops serving a killed agent's series on :9090 within two intervals, with metrics_sidecar_target_up 0, and Prometheus sees them go stale", async () => {
    const { pod, client, spec, dir } = await startPod({
      metricsSidecar: { interval: `${INTERVAL_MS}ms`, timeout: '500ms', staleAfter: `${2 * INTERVAL_MS}ms` },
    });
    const prometheus = await PrometheusServer.start(
      join(dir, 'prometheus'),
      new URL(spec.urls.metricsSidecar).host,
    );
    prometheusServers.push(prometheus);
    await client.burst(requestIds('scraped', 20));
    const inference = 'agent_requests_total{path="/inference",status="200"}';
    await waitFor(
      "Prometheus to hold the agent's request counter",
      async () => ((await prometheus.query(inference))[0]?.value === 20 ? true : undefined),
      { timeoutMs: 15_000, intervalMs: 200 },
    );

    pod.container('agent').kill();
    const killedAt = Date.now();
    const exposition = await waitFor(
      ":9090 to drop the agent's series",
      async () => {
        const { body } = await httpGet(`${spec.urls.metricsSidecar}/metrics`);
        return /^agent_/m.test(body) ? undefined : body;
      },
      // Two intervals (--stale-after) after the last good scrape, plus one interval and a margin.
      { timeoutMs: 3 * INTERVAL_MS + 3_000, intervalMs: 50 },
    );
    const droppedAfterMs = Date.now() - killedAt;
    expect(exposition).toMatch(/^metrics_sidecar_target_up\{target="app"\} 0$/m);
    expect(exposition).toMatch(/^metrics_sidecar_target_up\{target="log-sidecar"\} 1$/m);
    expect(exposition).toMatch(/^log_sidecar_/m);

    await waitFor(
      "Prometheus to mark the agent's series stale",
      async () => ((await prometheus.query('agent_requests_total')).length === 0 ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(await prometheus.query('metrics_sidecar_target_up{target="app"}')).toMatchObject([{ value: 0 }]);
    // The Pod's endpoint itself stays up: only the dead app's block is gone.
    expect(await prometheus.query('up{job="pod"}')).toMatchObject([{ value: 1 }]);
    console.info(`:9090 dropped the agent's series ${droppedAfterMs} ms after the kill`);

    const report = await pod.terminate();
    expect(report.containers.map((c) => [c.name, c.exit.code ?? c.exit.signal])).toEqual([
      ['agent', 'SIGKILL'],
      ['metrics-sidecar', 0],
      ['log-sidecar', 0],
    ]);
  });
});
