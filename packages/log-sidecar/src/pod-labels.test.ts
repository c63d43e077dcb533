import { ConfigError, loadConfig } from '@agent-sidecars/shared';
import { describe, expect, it } from 'vitest';
import { parseDownwardApiLabels, podLabelOptions, readPodLabels, recordLabelName } from './pod-labels.js';

// What the kubelet writes for metadata.labels: sorted keys, values quoted by Go's strconv.Quote.
const LABELS_FILE = [
  'app.kubernetes.io/name="shop-api"',
  'app.kubernetes.io/version="1.4.2"',
  'note="say \\"hi\\"\\tthen\\\\go \\u00e9\\x41"',
  'pod-template-hash="5d8f7c9b6"',
  '',
].join('\n');

const NAMES = { podLabelsFile: '--pod-labels-file' };

describe('parseDownwardApiLabels', () => {
  it('reads every key="value" line, undoing Go quoting', () => {
    const labels = parseDownwardApiLabels(LABELS_FILE);
    expect([...labels.keys()]).toEqual([
      'app.kubernetes.io/name',
      'app.kubernetes.io/version',
      'note',
      'pod-template-hash',
    ]);
    expect(labels.get('app.kubernetes.io/name')).toBe('shop-api');
    expect(labels.get('note')).toBe('say "hi"\tthen\\go éA');
  });

  it('names the line it cannot read', () => {
    expect(() => parseDownwardApiLabels('a="1"\nb=unquoted\n')).toThrow(
      /line 2 is not key="value": b=unquoted/,
    );
  });
});

describe('recordLabelName', () => {
  it('makes a Prometheus/Loki label name of a label key', () => {
    expect(recordLabelName('app.kubernetes.io/version')).toBe('app_kubernetes_io_version');
    expect(recordLabelName('team')).toBe('team');
    expect(recordLabelName('1st-tier')).toBe('_1st_tier');
  });
});

describe('readPodLabels', () => {
  const read = (path: string) => {
    if (path === '/etc/podinfo/labels') return LABELS_FILE;
    throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
  };

  it('puts the chosen labels under their record names and reports the ones the Pod lacks', () => {
    const result = readPodLabels(
      { podLabels: ['app.kubernetes.io/version', 'team'], podLabelsFile: '/etc/podinfo/labels' },
      NAMES,
      read,
    );
    expect(result).toEqual({ labels: { app_kubernetes_io_version: '1.4.2' }, missing: ['team'] });
  });

  it('reads no file when no label is chosen', () => {
    const result = readPodLabels({ podLabels: [], podLabelsFile: '/nowhere' }, NAMES, read);
    expect(result).toEqual({ labels: {}, missing: [] });
  });

  it('is a config error naming the file option when the file cannot be read', () => {
    const attempt = () =>
      readPodLabels({ podLabels: ['app'], podLabelsFile: '/nowhere/labels' }, NAMES, read);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      /^--pod-labels-file: "\/nowhere\/labels" cannot be read \(ENOENT\) and --pod-labels is set; mount a downwardAPI volume/,
    );
  });
});

describe('the --pod-labels option', () => {
  const load = (argv: string[], env: Record<string, string> = {}) => {
    const result = loadConfig({
      program: 'log-sidecar',
      version: '0',
      description: '',
      envPrefix: 'LOG_SIDECAR',
      options: podLabelOptions,
      argv,
      env,
    });
    if (result.action !== 'run') throw new Error('expected a config');
    return result.config;
  };

  it('takes a comma-separated list from the environment and the default file path', () => {
    const config = load([], { LOG_SIDECAR_POD_LABELS: 'app.kubernetes.io/name,version' });
    expect(config.podLabels).toEqual(['app.kubernetes.io/name', 'version']);
    expect(config.podLabelsFile).toBe('/etc/podinfo/labels');
  });

  it('rejects a key that is no Kubernetes label key, saying what is allowed', () => {
    expect(() => load(['--pod-labels', 'not a key'])).toThrow(
      /--pod-labels: "not a key" is not a Kubernetes label key; name a label of the Pod/,
    );
  });
});
