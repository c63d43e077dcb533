import { existsSync } from 'node:fs';
import { waitFor } from '@agent-sidecars/shared/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SteadyLoad } from '../../packages/pod-runner/src/index.js';
import {
  assertBuilt,
  cleanUp,
  deliveryOf,
  noFastApiReason,
  requestIds,
  startPod,
  startReceiver,
} from './pod-fixture.js';

beforeAll(assertBuilt);
afterEach(cleanUp);

describe.skipIf(noFastApiReason !== undefined)(
  'the Pod delivers every request line of the FastAPI agent',
  () => {
    it('delivers all N request lines of an agent that serves N requests and exits, and every container exits 0', async () => {
      const receiver = await startReceiver();
      const { pod, client } = await startPod({ logSidecar: { sink: { kind: 'http', url: receiver.url } } });
      const ids = requestIds('served', 300);

      const outcomes = await client.burst(ids);
      expect(outcomes.filter((outcome) => outcome.status !== 200)).toEqual([]);
      const report = await pod.terminate();

      expect(report.containers.map((c) => [c.name, c.exit.code, c.killed])).toEqual([
        ['agent', 0, false],
        ['metrics-sidecar', 0, false],
        ['log-sidecar', 0, false],
      ]);
      const delivery = deliveryOf(receiver.ledger, ids);
      expect(delivery.missing).toEqual([]);
      expect(delivery.splitLines).toEqual([]);
      expect(receiver.ledger.recordsWithFields({ path: '/inference' })).toHaveLength(ids.length);
    });

    it("loses no line while the agent's RotatingFileHandler rotates its log under load", async () => {
      const receiver = await startReceiver();
      // ~150-byte lines at 250 requests/s roll a 64 KiB file over about every 1.7 s; with 3 backups the
      // agent deletes each file about 7 s after creating it, as RotatingFileHandler does in real use.
      const { pod, client, spec } = await startPod({
        logSidecar: { sink: { kind: 'http', url: receiver.url } },
        agentLog: { maxBytes: 65_536, backupCount: 3 },
      });
      const load = new SteadyLoad(client, 'rotated', { concurrency: 4, ratePerSecond: 250 });

      await waitFor('2,000 requests (about five rotations)', () => (load.count >= 2_000 ? true : undefined), {
        timeoutMs: 30_000,
      });
      const answered = await load.stop();
      expect(load.errors).toEqual([]);
      await waitFor(
        'every answered request line at the sink',
        () => (deliveryOf(receiver.ledger, answered).missing.length === 0 ? true : undefined),
        { timeoutMs: 20_000 },
      ).catch(() => undefined);
      const report = await pod.terminate();

      expect(existsSync(`${spec.logFile}.3`)).toBe(true);
      expect(report.containers.every((c) => c.exit.code === 0 && !c.killed)).toBe(true);
      const delivery = deliveryOf(receiver.ledger, answered);
      expect(delivery.missing).toEqual([]);
      expect(delivery.splitLines).toEqual([]);
      // Each rotation starts a new file identity; the records come from every one of them.
      const files = new Set(receiver.ledger.records().map((record) => record.id.split(':', 1)[0]));
      expect(files.size).toBeGreaterThanOrEqual(5);
    });

    it('loses no line when log-sidecar is SIGKILLed and restarted mid-load, as the kubelet restarts a native sidecar', async () => {
      const receiver = await startReceiver();
      const { pod, client } = await startPod({ logSidecar: { sink: { kind: 'http', url: receiver.url } } });
      const load = new SteadyLoad(client, 'restart', { concurrency: 4 });

      await waitFor('records before the kill', () => (receiver.ledger.distinct >= 300 ? true : undefined), {
        timeoutMs: 20_000,
      });
      const killed = pod.container('log-sidecar');
      const restarted = await pod.killAndRestart('log-sidecar');
      const deliveredAtRestart = receiver.ledger.distinct;
      await waitFor(
        'records shipped by the restarted log-sidecar',
        () => (receiver.ledger.distinct >= deliveredAtRestart + 300 ? true : undefined),
        { timeoutMs: 20_000 },
      );
      const answered = await load.stop();
      expect(load.errors).toEqual([]);
      const report = await pod.terminate();

      expect((await killed.exited).signal).toBe('SIGKILL');
      expect(restarted.pid).not.toBe(killed.pid);
      expect(report.containers.every((c) => c.exit.code === 0 && !c.killed)).toBe(true);
      const delivery = deliveryOf(receiver.ledger, answered);
      expect(delivery.missing).toEqual([]);
      // Re-sent records keep their id (at-least-once): the same line never becomes a second record.
      expect(delivery.splitLines).toEqual([]);
      expect(answered.length).toBeGreaterThan(600);
    });
  },
);
