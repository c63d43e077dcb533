import { ConfigError, loadConfig } from '@agent-sidecars/shared';
import { describe, expect, it } from 'vitest';
import { checkpointDirOf, labelsOf, logSidecarOptions, parseMultiline, validateConfig } from './config.js';

function load(argv: string[], env: Record<string, string> = {}) {
  const result = loadConfig({
    program: 'log-sidecar',
    version: '0',
    description: '',
    envPrefix: 'LOG_SIDECAR',
    options: logSidecarOptions,
    argv,
    env,
    validate: validateConfig,
  });
  if (result.action !== 'run') throw new Error('expected a config');
  return result.config;
}

describe('log-sidecar config', () => {
  it('has the documented defaults', () => {
    const config = load(['--path', '/var/log/agent/*.log']);
    expect(config).toMatchObject({
      shutdownTimeout: 25_000,
      maxLineBytes: 256 * 1024,
      bufferMaxBytes: 16 * 1024 * 1024,
      batchMaxRecords: 10_000,
      batchMaxBytes: 1024 * 1024,
      batchTimeout: 1000,
      format: 'json',
      multiline: { kind: 'none' },
      multilineTimeout: 1000,
      multilineField: 'exc_info',
      listen: { host: '0.0.0.0', port: 9091 },
    });
    expect(checkpointDirOf(config, '/')).toBe('/var/log/agent/.log-sidecar');
  });

  it('takes every option from env too, lists split on commas', () => {
    const config = load([], {
      LOG_SIDECAR_PATH: '/a/*.log,/b/*.{log,txt}',
      LOG_SIDECAR_FORMAT: 'raw',
      LOG_SIDECAR_MULTILINE: 'python',
    });
    expect(config.path).toEqual(['/a/*.log', '/b/*.{log,txt}']);
    expect(config.format).toBe('raw');
    expect(config.multiline).toEqual({ kind: 'python' });
  });

  it('builds labels from the Downward API env, --label winning', () => {
    const config = load(['--path', '/x/*.log', '--label', 'pod=override', '--label', 'team=search']);
    expect(labelsOf(config, { POD_NAME: 'p', NODE_NAME: 'n', CONTAINER_NAME: '' })).toEqual({
      pod: 'override',
      node: 'n',
      team: 'search',
    });
  });

  it('rejects contradictions with a ConfigError naming the option', () => {
    expect(() => load(['--path', '/x/*.log', '--buffer-max-bytes', '1KiB'])).toThrow(ConfigError);
    expect(() => load(['--path', '/x/*.log', '--shutdown-timeout', '100ms'])).toThrow(/--shutdown-timeout/);
    expect(() => load(['--path', '/x/'])).toThrow(/--path: "\/x\/" names a directory/);
  });

  it('parses --multiline as none, python or a regex', () => {
    expect(parseMultiline('none')).toEqual({ kind: 'none' });
    const mode = parseMultiline('^\\d{4}-');
    expect(mode.kind === 'regex' && mode.firstLine.test('2024-01')).toBe(true);
    expect(() => parseMultiline('(')).toThrow(/neither none, python nor a regular expression/);
  });

  it('takes --multiline-field as a field name, dotted ones included, and rejects anything else', () => {
    expect(load(['--path', '/x/*.log', '--multiline-field', 'error.stack_trace']).multilineField).toBe(
      'error.stack_trace',
    );
    expect(
      load([], { LOG_SIDECAR_PATH: '/x/*.log', LOG_SIDECAR_MULTILINE_FIELD: 'stack' }).multilineField,
    ).toBe('stack');
    for (const bad of ['', 'two words', '9lives', 'a"b']) {
      expect(() => load(['--path', '/x/*.log', '--multiline-field', bad])).toThrow(/--multiline-field/);
    }
  });
});
