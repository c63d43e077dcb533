import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireTool, waitFor } from '@agent-sidecars/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  get,
  metricsSidecar,
  OPENMETRICS_ACCEPT,
  PROMTOOL,
  PYTHON,
  PYTHON_CLIENT_PROBE,
  promtoolCheck,
  pythonOpenMetricsCheck,
  sampleValue,
} from './harness.js';

const APP = fileURLToPath(new URL('./fixtures/python_app.py', import.meta.url));
// Needs Debian's python3-prometheus-client under /usr/bin/python3: a printed skip locally, a failure under
// CI=true, without it.
const python = requireTool('python3 with prometheus_client', PYTHON_CLIENT_PROBE);

describe.skipIf(!python.available)(
  'client_python as a real target (needs /usr/bin/python3 and prometheus_client)',
  () => {
    let app: ChildProcess;
    let port: number;

    beforeAll(async () => {
      app = spawn(PYTHON, [APP], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      app.stdout!.setEncoding('utf8').on('data', (text: string) => {
        out += text;
      });
      port = await waitFor('the python app port', () =>
        out.includes('\n') ? Number(out.trim()) : undefined,
      );
    });

    afterAll(() => {
      app.kill('SIGKILL');
    });

    for (const [format, path] of [
      ['OpenMetrics', '/metrics'],
      ['text 0.0.4', '/text'],
    ] as const) {
      it(`serves what client_python exposes in ${format}, valid in both formats`, async () => {
        const sidecar = metricsSidecar([
          '--target',
          `app=http://127.0.0.1:${port}${path}`,
          '--interval',
          '300ms',
          '--timeout',
          '200ms',
        ]);
        try {
          const base = await sidecar.ready();
          const scraped = await waitFor('the app series', async () => {
            const answer = (await get(`${base}/metrics`)).body;
            return answer.includes('agent_requests_total') ? answer : undefined;
          });
          const expectedFormat = path === '/metrics' ? 'openmetrics' : 'text';
          expect(sidecar.logs.find((entry) => entry.target === 'app' && entry.format)).toMatchObject({
            format: expectedFormat,
          });

          const text = (await get(`${base}/metrics`, { 'Accept-Encoding': 'gzip' })).body;
          expect(sampleValue(text, 'agent_requests_total{route="/chat"}')).toBe('3.0');
          expect(sampleValue(text, 'agent_latency_seconds_bucket{le="0.25",route="/chat"}')).toBe('1.0');
          expect(sampleValue(text, 'agent_state{agent_state="running"}')).toBe('1.0');
          expect(sampleValue(text, 'agent_build_info{version="1.0"}')).toBe('1.0');
          expect(text).toContain('# TYPE agent_requests_created gauge\n');
          if (PROMTOOL) {
            const check = promtoolCheck(text);
            expect(check.ok, check.output).toBe(true);
          }

          const om = (await get(`${base}/metrics`, { Accept: OPENMETRICS_ACCEPT, 'Accept-Encoding': 'gzip' }))
            .body;
          expect(om).toContain('# TYPE agent_requests counter\n');
          expect(om).toContain('# HELP agent_requests Requests handled, by \\"route\\".\n');
          // Text 0.0.4 cannot say info or stateset, so those come back as gauges when the source was text.
          expect(om).toContain(
            expectedFormat === 'openmetrics'
              ? '# TYPE agent_build info\n'
              : '# TYPE agent_build_info gauge\n',
          );
          const strict = pythonOpenMetricsCheck(om);
          expect(strict.ok, strict.output).toBe(true);
          expect(scraped).toContain('agent_inflight 2.0');
        } finally {
          await sidecar.kill();
        }
      });
    }
  },
);
