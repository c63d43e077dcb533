import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration, waitFor } from '@agent-sidecars/shared';
import { inferenceCount, printTermination, SHOWN_METRICS } from '../demo.js';
import { httpGet } from '../http-probe.js';
import { REPO_ROOT } from '../local-pod.js';
import type { OutputFormatter } from '../output-formatter.js';
import type { TerminationReport } from '../pod.js';
import { parseShippedRecord, RecordLedger, requestIdOf } from '../record-receiver.js';
import { AgentClient } from '../traffic.js';
import { ContainerPod } from './container-pod.js';
import type { DockerEngine } from './docker-cli.js';
import { renderedWorkload } from './kustomize.js';
import { configFileOf, type K8sContainer, type RenderedPod } from './pod-manifest.js';

export interface ContainerDemoIo {
  readonly print: (text: string) => void;
  readonly format: OutputFormatter;
  readonly engine: DockerEngine;
  /** Aborted on Ctrl-C / SIGTERM: the Pod is then terminated like the kubelet would. */
  readonly stop: AbortSignal;
  readonly requests?: number;
}

/**
 * `npm run demo:containers`: the Pod of k8s/ (the rendered Deployment) in real containers, with the
 * kubelet's order: each native sidecar after the previous one's startup probe, then the agent; a burst
 * of requests, the shipped records, the merged metrics; then the agent first and the sidecars in
 * reverse order on termination. Resolves with the exit code.
 */
export async function runContainerDemo(io: ContainerDemoIo): Promise<number> {
  const { print, format } = io;
  const say = (text: string) => print(format.say(text));
  const requests = io.requests ?? 20;
  const workload = renderedWorkload(REPO_ROOT, 'Deployment');
  const manifest = workload.pod;
  say(`the Pod of ${manifest.source}, rendered by kubectl kustomize ${workload.dir}`);
  const logSidecar = byImage(manifest, 'log-sidecar');
  const metricsSidecar = byImage(manifest, 'metrics-sidecar');
  const app = manifest.spec.containers[0]!;
  const ledger = new RecordLedger();
  const pod = await ContainerPod.create({
    engine: io.engine,
    manifest,
    dir: mkdtempSync(join(tmpdir(), 'asc-demo-')),
    helperImage: logSidecar.image,
    helperNode: '/nodejs/bin/node',
    onEvent: (event) => print(format.event(event)),
    onLine: (container, stream, text) => {
      if (container === logSidecar.name && stream === 'stdout') {
        try {
          ledger.add(parseShippedRecord(text));
        } catch {
          // printed as it is below
        }
      }
      print(format.line(container, stream, text));
    },
  });
  say(`sandbox: pause container with a loopback-only network namespace (${pod.networkArgs.join(' ')})`);
  let failure: Error | undefined;
  let report: TerminationReport | undefined;
  const client = new AgentClient(pod.url(app.ports![0]!.containerPort));
  try {
    say('starting the Pod like the kubelet: each native sidecar, then its startup probe, then the agent');
    await pod.pod.start();
    const runId = Date.now().toString(36);
    const ids = Array.from({ length: requests }, (_, n) => `demo-${runId}-${String(n + 1).padStart(3, '0')}`);
    say(`sending ${requests} POST /inference requests and one that fails (its traceback is one record)`);
    const outcomes = await client.burst(ids);
    const failed = await client.inference(`demo-${runId}-fail`, 'this one breaks', true);
    if (outcomes.some((outcome) => outcome.status !== 200)) throw new Error('a request was not answered 200');
    say(`the agent answered ${outcomes.length} x 200 and ${failed.status} for the failing one`);
    const mine = () => ledger.records().filter((record) => requestIdOf(record)?.startsWith(`demo-${runId}-`));
    await waitFor(
      `the log-sidecar to ship all ${requests + 1} request lines`,
      () => (mine().length >= requests + 1 ? true : undefined),
      { timeoutMs: 30_000, signal: io.stop },
    );
    say(
      `the log-sidecar shipped all ${mine().length} request lines (${ledger.duplicates} duplicate deliveries)`,
    );

    const port = metricsSidecar.ports![0]!.containerPort;
    const interval = scrapeIntervalMs(manifest, metricsSidecar);
    say(`waiting for the metrics-sidecar's next scrape (every ${interval / 1000} s, from its ConfigMap)`);
    const metrics = await waitFor(
      `:${port} to serve the requests just made`,
      async () => {
        const { status, body } = await httpGet(`${pod.url(port)}/metrics`);
        return status === 200 && inferenceCount(body) >= requests ? body : undefined;
      },
      { timeoutMs: 2 * interval + 10_000, intervalMs: 500, signal: io.stop },
    );
    say(`the merged metrics on :${port}/metrics (a selection):`);
    for (const line of metrics.split('\n').filter((l) => SHOWN_METRICS.test(l)))
      print(format.say(`  ${line}`, metricsSidecar.name));
  } catch (error) {
    failure = error as Error;
    say(`the scenario failed: ${failure.message}`);
  } finally {
    client.close();
    try {
      say(
        'terminating the Pod like the kubelet: SIGTERM to the agent and wait, then each sidecar in reverse order',
      );
      report = await pod.pod.terminate();
      printTermination(report, say, format);
    } finally {
      await pod.dispose();
    }
  }
  const clean = report?.containers.every((c) => c.exit.code === 0 && !c.killed) === true;
  if (failure || !clean) {
    say(failure ? 'the demo did not complete.' : 'a container did not exit cleanly (see above).');
    return 1;
  }
  say(`done: ${ledger.distinct} records shipped, every container exited 0 within the grace period.`);
  return 0;
}

function byImage(manifest: RenderedPod, name: string): K8sContainer {
  const found = (manifest.spec.initContainers ?? []).find((c) => c.image.split(':')[0]?.endsWith(`/${name}`));
  if (!found) throw new Error(`${manifest.source} has no ${name} native sidecar`);
  return found;
}

/** The metrics-sidecar's `interval` from the ConfigMap its `--config` points into (15 s by default). */
function scrapeIntervalMs(manifest: RenderedPod, container: K8sContainer): number {
  const interval = configFileOf(manifest, container).interval;
  return typeof interval === 'string' ? parseDuration(interval) : 15_000;
}
