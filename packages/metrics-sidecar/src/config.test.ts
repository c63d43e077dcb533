import { loadConfig } from '@agent-sidecars/shared';
import { describe, expect, it } from 'vitest';
import { configInput, settingsOf } from './config.js';

function load(argv: string[], env: Record<string, string> = {}) {
  const result = loadConfig(configInput(argv, env, '0.0.0'));
  if (result.action !== 'run') throw new Error('expected a config');
  return settingsOf(result.config);
}

describe('metrics-sidecar config', () => {
  it('has the documented defaults', () => {
    const settings = load([]);
    expect(settings.target.map((t) => [t.name, t.url.href])).toEqual([
      ['127.0.0.1:8000', 'http://127.0.0.1:8000/metrics'],
    ]);
    expect(settings.listen).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(settings).toMatchObject({
      interval: 15_000,
      timeout: 5_000,
      staleAfterMs: 30_000,
      bodyLimit: 3 * 1024 * 1024,
      sampleLimit: 12_000,
      totalBodyLimit: 3 * 1024 * 1024,
      totalSampleLimit: 12_000,
      targetBodyLimit: 3 * 1024 * 1024,
      targetSampleLimit: 12_000,
      shutdownTimeout: 10_000,
    });
  });

  it('shares the total limits between the targets, each at most the per-target limit', () => {
    const settings = load([
      '--target',
      'a=http://127.0.0.1:1/m',
      '--target',
      'b=http://127.0.0.1:2/m',
      '--total-sample-limit',
      '24000',
    ]);
    expect(settings).toMatchObject({ targetSampleLimit: 12_000, targetBodyLimit: 1.5 * 1024 * 1024 });
    expect(load(['--sample-limit', '100', '--total-sample-limit', '30000']).targetSampleLimit).toBe(100);
  });

  it('takes repeated named targets from flags and a list from env', () => {
    const fromFlags = load([
      '--target',
      'app=http://127.0.0.1:8000/metrics?x=1',
      '--target',
      'http://127.0.0.1:9091/metrics',
    ]);
    expect(fromFlags.target.map((t) => [t.name, t.url.href])).toEqual([
      ['app', 'http://127.0.0.1:8000/metrics?x=1'],
      ['127.0.0.1:9091', 'http://127.0.0.1:9091/metrics'],
    ]);
    const fromEnv = load([], {
      METRICS_SIDECAR_TARGET: 'a=http://h:1/m,b=http://h:2/m',
      METRICS_SIDECAR_INTERVAL: '10s',
    });
    expect(fromEnv.target.map((t) => t.name)).toEqual(['a', 'b']);
    expect(fromEnv.staleAfterMs).toBe(20_000);
  });

  it('rejects a timeout not below the interval', () => {
    expect(() => load(['--interval', '5s', '--timeout', '5s'])).toThrow(
      /--timeout: "5s" is not below --interval \(5s\)/,
    );
    // Named and echoed as written, wherever the value came from.
    expect(() => load([], { METRICS_SIDECAR_INTERVAL: '1m', METRICS_SIDECAR_TIMEOUT: '60000ms' })).toThrow(
      /^METRICS_SIDECAR_TIMEOUT: "60000ms" is not below METRICS_SIDECAR_INTERVAL \(1m\)/,
    );
  });

  it.each([
    [['--interval', '0s'], '--interval: "0s" is below the minimum of 100ms'],
    [['--timeout', '0'], '--timeout: "0" is below the minimum of 10ms'],
    [['--interval', '2h'], '--interval: "2h" is above the maximum of 1h'],
    [['--body-limit', '10'], '--body-limit: "10" is below the minimum of 1KiB'],
    [['--sample-limit', '0'], '--sample-limit: "0" is out of range'],
    [['--shutdown-timeout', '0s'], '--shutdown-timeout: "0s" is below the minimum of 100ms'],
  ])('rejects %j outside its bounds', (argv, message) => {
    expect(() => load(argv)).toThrow(message);
  });

  it('rejects a stale-after below the interval', () => {
    expect(() => load(['--stale-after', '1s'])).toThrow(/--stale-after: "1s" is below --interval \(15s\)/);
  });

  it('rejects a bad URL and duplicate names', () => {
    expect(() => load(['--target', 'app=localhost:8000'])).toThrow(/--target: "app=localhost:8000" .*http/);
    expect(() => load(['--target', 'a=http://h/m', '--target', 'a=http://g/m'])).toThrow(
      /repeats the name a/,
    );
    expect(() => load(['--target', 'metrics-sidecar=http://h/m'])).toThrow(/reserved name/);
  });
});
