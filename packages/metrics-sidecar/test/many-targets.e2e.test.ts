import { ProcessTracker, requireTool, waitFor } from '@agent-sidecars/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FakeTarget,
  get,
  metricsSidecar,
  OPENMETRICS_ACCEPT,
  PROMTOOL_PROBE,
  PYTHON_CLIENT_PROBE,
  requireBuiltSidecar,
  sampleValue,
} from './harness.js';
import { promtoolParses, StrictOpenMetricsParser } from './reference-parsers.js';

requireBuiltSidecar();

const OM = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const TEXT = 'text/plain; version=0.0.4; charset=utf-8';

interface TargetSpec {
  readonly name: string;
  readonly contentType: string;
  readonly body: string;
  readonly status?: number;
  /** Whether its scrapes succeed. */
  readonly up: boolean;
}

const TARGETS: readonly TargetSpec[] = [
  {
    name: 'om-app',
    contentType: OM,
    up: true,
    body: [
      '# TYPE agent_requests counter',
      'agent_requests_total{route="/a"} 3 # {trace_id="x"} 1',
      'agent_requests_created{route="/a"} 1700000000',
      '# TYPE agent_latency_seconds histogram',
      '# UNIT agent_latency_seconds seconds',
      'agent_latency_seconds_bucket{le="0.1"} 1',
      'agent_latency_seconds_bucket{le="+Inf"} 2',
      'agent_latency_seconds_count 2',
      'agent_latency_seconds_sum 0.3',
      '# TYPE agent_build info',
      'agent_build_info{version="1.2"} 1',
      '# TYPE agent_mode stateset',
      'agent_mode{agent_mode="on"} 1',
      'agent_mode{agent_mode="off"} 0',
      '# TYPE agent_queue gaugehistogram',
      'agent_queue_bucket{le="+Inf"} 4',
      'agent_queue_gcount 4',
      'agent_queue_gsum 9',
      'agent_odd{v="\\z"} 1 1700000000',
      'agent_odd{v="\\z"} 2 1700000001',
      '# EOF',
      '',
    ].join('\n'),
  },
  {
    name: 'text-app',
    contentType: TEXT,
    up: true,
    body: [
      '# TYPE agent_requests_total counter',
      'agent_requests_total {route="/b"} 5',
      '# TYPE agent_requests_created gauge',
      'agent_requests_created{route="/b"} 1700000001',
      '# TYPE text_only_seconds histogram',
      'text_only_seconds_bucket{le="1"} 0.5',
      'text_only_seconds_bucket{le="+Inf"} 1.5',
      'text_only_seconds_sum 2',
      'text_only_seconds_count 1.5',
      'big_timestamp 1 9007199254740993000',
      '',
    ].join('\n'),
  },
  {
    name: 'conflicting-type',
    contentType: TEXT,
    up: true,
    body: '# TYPE agent_latency_seconds gauge\nagent_latency_seconds 3\n',
  },
  ...[
    ['no-inf', OM, '# TYPE h histogram\nh_bucket{le="1"} 1\n# EOF\n'],
    [
      'interleaved',
      OM,
      '# TYPE s summary\ns_count{a="1"} 1\ns_count{a="2"} 1\ns_sum{a="1"} 1\ns_sum{a="2"} 1\n# EOF\n',
    ],
    ['double-space', OM, '# TYPE g gauge\ng  1\n# EOF\n'],
    ['nan-counter', OM, '# TYPE c counter\nc_total NaN\n# EOF\n'],
    ['no-eof', OM, '# TYPE g gauge\ng 1\n'],
    ['created-clash', OM, '# TYPE a counter\na_total 1\n# TYPE a_created gauge\na_created 1\n# EOF\n'],
    ['no-newline', TEXT, 'g 1'],
    ['negative-bucket', TEXT, '# TYPE h histogram\nh_bucket{le="+Inf"} -1\n'],
    ['html', 'text/html', '<html>oops</html>'],
  ].map(([name, contentType, body]) => ({ name: name!, contentType: contentType!, body: body!, up: false })),
  { name: 'status-500', contentType: TEXT, body: 'g 1\n', status: 500, up: false },
];

describe('one metrics-sidecar scraping many valid and invalid targets at once', () => {
  const promtool = requireTool('promtool', PROMTOOL_PROBE);
  const python = requireTool('python3 with prometheus_client', PYTHON_CLIENT_PROBE);
  const sidecars = new ProcessTracker(metricsSidecar);
  const targets: FakeTarget[] = [];
  let base = '';

  beforeAll(async () => {
    const args: string[] = ['--interval', '1s', '--timeout', '800ms'];
    for (const spec of TARGETS) {
      const target = new FakeTarget();
      target.body = spec.body;
      target.contentType = spec.contentType;
      target.status = spec.status ?? 200;
      targets.push(target);
      args.push('--target', `${spec.name}=${await target.start()}`);
    }
    base = await sidecars.start(args).ready();
    // Every target scraped at least twice, so every verdict is in the served body.
    await waitFor('every target to be scraped twice', () => targets.every((target) => target.requests >= 2));
  }, 30_000);

  afterAll(async () => {
    await Promise.all([sidecars.cleanup(), ...targets.map((target) => target.stop())]);
  });

  it('reports each target up or down, with parse failures counted for the invalid ones', async () => {
    const body = (await get(`${base}/metrics`)).body;
    for (const spec of TARGETS) {
      expect(sampleValue(body, `metrics_sidecar_target_up{target="${spec.name}"}`), spec.name).toBe(
        spec.up ? '1' : '0',
      );
      const reason = spec.status === undefined ? 'parse' : 'status';
      const failures = Number(
        sampleValue(body, `metrics_sidecar_scrape_failures_total{target="${spec.name}",reason="${reason}"}`),
      );
      if (spec.up) expect(failures, spec.name).toBe(0);
      else expect(failures, spec.name).toBeGreaterThanOrEqual(1);
    }
    // The valid targets' series, merged; the conflicting family dropped from the later target.
    expect(sampleValue(body, 'agent_requests_total{route="/a"}')).toBe('3');
    expect(sampleValue(body, 'agent_requests_total{route="/b"}')).toBe('5');
    expect(sampleValue(body, 'agent_odd{v="\\\\z"}')).toBeDefined();
    expect(body).not.toContain('agent_latency_seconds 3');
    // Counted while rendering, so seen from the next render on.
    await waitFor('the type conflict to be counted', async () => {
      const later = (await get(`${base}/metrics`)).body;
      return Number(sampleValue(later, 'metrics_sidecar_conflicts_total')) >= 1;
    });
  });

  it('serves a text body promtool parses', async (context) => {
    if (!promtool.available) return context.skip();
    const body = (await get(`${base}/metrics`, { 'Accept-Encoding': 'gzip' })).body;
    expect(promtoolParses(body)).toEqual({ ok: true });
    // Valid text that is not valid OpenMetrics is served here.
    expect(body).toContain('text_only_seconds_bucket{le="+Inf"} 1.5');
    expect(body).toContain('big_timestamp 1 9007199254740993000');
  });

  it("serves an OpenMetrics body client_python's strict parser accepts", async (context) => {
    if (!python.available) return context.skip();
    const answer = await get(`${base}/metrics`, { Accept: OPENMETRICS_ACCEPT });
    expect(answer.headers['content-type']).toBe(OM);
    const strict = new StrictOpenMetricsParser();
    try {
      expect(await strict.check(answer.body)).toMatchObject({ ok: true });
    } finally {
      await strict.close();
    }
    expect(answer.body).not.toContain('text_only_seconds');
    expect(answer.body).toContain('agent_requests_created{route="/b"} 1700000001');
  });
});
