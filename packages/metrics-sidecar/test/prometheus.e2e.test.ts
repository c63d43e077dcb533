import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireTool, type SidecarProcess, waitFor } from '@agent-sidecars/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTarget, get, metricsSidecar, PROMETHEUS, PROMETHEUS_PROBE } from './harness.js';

interface QueryResult {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

// Needs Debian's prometheus package: a printed skip locally, a failure under CI=true, when it is missing.
const prometheusTool = requireTool('prometheus', PROMETHEUS_PROBE);

describe.skipIf(!prometheusTool.available)(
  'a real Prometheus scraping the sidecar (needs /usr/bin/prometheus)',
  () => {
    let dir: string;
    let prometheus: ChildProcess;
    let promBase: string;
    let sidecar: SidecarProcess<string>;
    const target = new FakeTarget();
    let prometheusLog = '';

    async function query(expr: string): Promise<QueryResult[]> {
      const answer = await get(`${promBase}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const parsed = JSON.parse(answer.body) as { status: string; data: { result: QueryResult[] } };
      if (parsed.status !== 'success') throw new Error(answer.body);
      return parsed.data.result;
    }

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'metrics-sidecar-prometheus-'));
      target.body = [
        '# HELP agent_requests_total Requests handled.',
        '# TYPE agent_requests_total counter',
        'agent_requests_total{route="/chat"} 7',
        '# HELP agent_latency_seconds Latency.',
        '# TYPE agent_latency_seconds histogram',
        'agent_latency_seconds_bucket{le="0.1"} 1',
        'agent_latency_seconds_bucket{le="+Inf"} 2',
        'agent_latency_seconds_sum 0.35',
        'agent_latency_seconds_count 2',
        '',
      ].join('\n');
      const targetUrl = await target.start();
      sidecar = metricsSidecar(['--target', `app=${targetUrl}`, '--interval', '500ms', '--timeout', '300ms']);
      const sidecarBase = await sidecar.ready();

      const port = await freePort();
      promBase = `http://127.0.0.1:${port}`;
      writeFileSync(
        join(dir, 'prometheus.yml'),
        [
          'global:',
          '  scrape_interval: 1s',
          '  scrape_timeout: 800ms',
          'scrape_configs:',
          '  - job_name: agent',
          '    static_configs:',
          `      - targets: ['${new URL(sidecarBase).host}']`,
          '',
        ].join('\n'),
      );
      prometheus = spawn(
        PROMETHEUS,
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      prometheus.stderr!.setEncoding('utf8').on('data', (text: string) => {
        prometheusLog += text;
      });
      await waitFor('Prometheus to be ready', async () => (await get(`${promBase}/-/ready`)).status === 200, {
        timeoutMs: 20_000,
      });
    }, 40_000);

    afterAll(async () => {
      prometheus?.kill('SIGKILL');
      await sidecar?.kill();
      await target.stop().catch(() => {});
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("ingests the app's series and the sidecar's own, then sees the app's go stale after the app dies", async () => {
      const requests = await waitFor(
        'Prometheus to have the app series',
        async () => {
          const result = await query('agent_requests_total');
          return result.length > 0 ? result : undefined;
        },
        { timeoutMs: 20_000 },
      );
      expect(requests[0]!.metric).toMatchObject({ job: 'agent', route: '/chat' });
      expect(requests[0]!.value[1]).toBe('7');
      const up = await query('metrics_sidecar_target_up{target="app"}');
      expect(up[0]!.value[1]).toBe('1');
      expect(await query('agent_latency_seconds_bucket')).toHaveLength(2);
      // Prometheus read the OpenMetrics body without complaint.
      const targets = JSON.parse((await get(`${promBase}/api/v1/targets`)).body) as {
        data: { activeTargets: { health: string; lastError: string }[] };
      };
      expect(targets.data.activeTargets[0]).toMatchObject({ health: 'up', lastError: '' });

      await target.stop();
      await waitFor(
        'the app series to go stale in Prometheus',
        async () => (await query('agent_requests_total')).length === 0,
        { timeoutMs: 20_000 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\nPrometheus said:\n${prometheusLog.slice(-2000)}`);
      });
      const stillUp = await query('metrics_sidecar_target_up{target="app"}');
      expect(stillUp[0]!.value[1]).toBe('0');
    }, 60_000);
  },
);
