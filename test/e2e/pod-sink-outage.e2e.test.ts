import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { httpGet, SteadyLoad } from '../../packages/pod-runner/src/index.js';
import {
  assertBuilt,
  cleanUp,
  deliveryOf,
  type LogLine,
  noFastApiReason,
  requestIds,
  startPod,
  startReceiver,
} from './pod-fixture.js';

beforeAll(assertBuilt);
afterEach(cleanUp);

const MiB = 1024 * 1024;
const OUTAGE_MS = 20_000;
const BULK_LINES = 150_000;

/** `BULK_LINES` JSON lines of ~200 bytes (~30 MiB) appended to `path` in 1 MiB writes. */
async function writeBulk(path: string): Promise<void> {
  const pad = 'x'.repeat(170);
  let chunk = '';
  for (let n = 1; n <= BULK_LINES; n++) {
    chunk += `{"bulk":${n},"pad":"${pad}"}\n`;
    if (chunk.length >= MiB || n === BULK_LINES) {
      await appendFile(path, chunk);
      chunk = '';
    }
  }
}

async function metric(url: string, name: string): Promise<number> {
  const { body } = await httpGet(`${url}/metrics`);
  const line = body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe.skipIf(noFastApiReason !== undefined)('the Pod when the HTTP sink fails', () => {
  // log-sidecar's memory in this outage is measured by bench/log-sidecar-http (BENCH_ONLY=outage).
  it('loses nothing while the HTTP sink is down for 20 s under load', async () => {
    const receiver = await startReceiver();
    const { pod, client, spec } = await startPod({
      logSidecar: { sink: { kind: 'http', url: receiver.url }, extraArgs: ['--buffer-max-bytes', '4MiB'] },
    });
    const load = new SteadyLoad(client, 'outage', { concurrency: 2, ratePerSecond: 200 });
    await waitFor(
      'the first records at the sink',
      () => (receiver.ledger.distinct >= 200 ? true : undefined),
      {
        timeoutMs: 20_000,
      },
    );

    await receiver.stop();
    const outageEnds = Date.now() + OUTAGE_MS;
    // Besides the requests, ~30 MiB in a second file: far more than the 4 MiB buffer, read through
    // the outage while delivery is blocked.
    const bulk = writeBulk(join(spec.logDir, 'bulk.log'));
    // The outage lasts a fixed time by design.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, outageEnds - Date.now())));
    await bulk;
    await receiver.start();

    await waitFor(
      'the backlog at the sink after it came back',
      () =>
        receiver.ledger.recordsWithFields({ pad: 'x'.repeat(170) }).length >= BULK_LINES ? true : undefined,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const answered = await load.stop();
    expect(load.errors).toEqual([]);
    const report = await pod.terminate();

    expect(report.containers.every((c) => c.exit.code === 0 && !c.killed)).toBe(true);
    const delivery = deliveryOf(receiver.ledger, answered);
    expect(delivery.missing).toEqual([]);
    expect(delivery.splitLines).toEqual([]);
    const bulkSeen = new Set(receiver.ledger.records().map((record) => record.fields?.bulk));
    expect(bulkSeen.size - (bulkSeen.has(undefined) ? 1 : 0)).toBe(BULK_LINES);
  }, 120_000);

  it('at SIGTERM with the HTTP sink gone for good, log-sidecar ends within its deadline, reports what it could not deliver and spills it to stdout', async () => {
    const nobody = await freePort();
    const { pod, client, spec, logs, stdoutRecords } = await startPod({
      logSidecar: {
        sink: { kind: 'http', url: `http://127.0.0.1:${nobody}/ingest` },
        shutdownTimeout: '3s',
        onDeadline: 'stdout',
      },
    });
    const ids = requestIds('unsent', 200);
    const outcomes = await client.burst(ids);
    expect(outcomes.filter((outcome) => outcome.status !== 200)).toEqual([]);
    await waitFor(
      'log-sidecar to have read every request line',
      async () =>
        (await metric(spec.urls.logSidecar, 'log_sidecar_records_read_total')) >= 200 ? true : undefined,
      { timeoutMs: 10_000 },
    );

    const report = await pod.terminate();

    const [agent, metrics, log] = report.containers;
    expect([agent!.exit.code, metrics!.exit.code]).toEqual([0, 0]);
    expect(log!.name).toBe('log-sidecar');
    expect(log!.killed).toBe(false);
    expect(log!.exit.code).toBe(1);
    // --shutdown-timeout 3s, with a generous margin for a loaded machine; the Pod's grace is 30 s.
    expect(log!.tookMs).toBeLessThan(6_000);
    const reports = (logs.get('log-sidecar') ?? []).filter(
      (line: LogLine) => line.level === 'error' && /not delivered/i.test(line.msg ?? ''),
    );
    expect(reports.length).toBeGreaterThan(0);
    expect(
      reports.some((line) => line.records === 200 && String(line.file ?? line.path).endsWith('requests.log')),
    ).toBe(true);
    const spilled = deliveryOf(stdoutRecords, ids);
    expect(spilled.missing).toEqual([]);
    expect(spilled.splitLines).toEqual([]);
  });
});
