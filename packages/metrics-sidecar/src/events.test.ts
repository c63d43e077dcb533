import { createLogger } from '@agent-sidecars/shared';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SidecarEvents } from './events.js';
import { parseExposition } from './scrape/exposition-parser.js';
import type { Snapshot } from './scrape/snapshot.js';
import { SidecarMetrics } from './sidecar-metrics.js';

function setup() {
  const lines: { level: string; msg: string; [key: string]: unknown }[] = [];
  const logger = createLogger({
    name: 'metrics-sidecar',
    level: 'debug',
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  const registry = new Registry();
  const events = new SidecarEvents(logger, new SidecarMetrics(registry, ['app']));
  return { lines, registry, events };
}

function snapshot(body: string): Snapshot {
  const parsed = parseExposition(body, 'text');
  return {
    target: 'app',
    format: 'text',
    families: parsed.families,
    sampleCount: parsed.sampleCount,
    scrapedAt: 0,
  };
}

describe('SidecarEvents', () => {
  it('warns once per failure reason, counts every failure, and logs the recovery', async () => {
    const { lines, registry, events } = setup();
    const failure = { reason: 'connect', message: 'ECONNREFUSED' } as const;
    events.scrapeFailed('app', 'http://127.0.0.1:1/metrics', failure, 5);
    events.scrapeFailed('app', 'http://127.0.0.1:1/metrics', failure, 5);
    events.scrapeSucceeded('app', snapshot('a 1\n'), 5);
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      ['warn', 'Scrape failed; the last good scrape is served until stale.'],
      ['debug', 'Scrape failed again.'],
      ['info', 'Scrape succeeded; serving the target.'],
    ]);
    const text = await registry.metrics();
    expect(text).toContain('metrics_sidecar_scrape_failures_total{target="app",reason="connect"} 2');
    expect(text).toContain('metrics_sidecar_target_up{target="app"} 1');
  });

  it('names a text-only family once, however many scrapes keep it', () => {
    const { lines, events } = setup();
    const body = '# TYPE c_total counter\nc_total NaN\n';
    events.scrapeSucceeded('app', snapshot(body), 1);
    events.scrapeSucceeded('app', snapshot(body), 1);
    const warnings = lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ target: 'app', family: 'c' });
    expect(String(warnings[0]!.problem)).toMatch(/c_total is NaN/);
  });
});
