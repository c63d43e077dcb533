import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@agent-sidecars/shared';
import { describe, expect, it } from 'vitest';
import { resolveSinkSpecs, sinkOptions, validateSinkConfig } from './sink-options.js';

function load(argv: string[], file?: string, env: Record<string, string> = {}) {
  const result = loadConfig({
    program: 'log-sidecar',
    version: '0',
    description: '',
    envPrefix: 'LOG_SIDECAR',
    options: sinkOptions,
    argv: file ? ['--config', file, ...argv] : argv,
    env,
    validate: validateSinkConfig,
  });
  if (result.action !== 'run') throw new Error('expected run');
  return resolveSinkSpecs(result.config, undefined, { env });
}

async function configFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sink-options-'));
  const file = join(dir, 'config.yaml');
  await writeFile(file, text);
  return file;
}

describe('sink options', () => {
  it('defaults to stdout', () => {
    expect(load([])).toEqual([{ kind: 'stdout', name: 'stdout' }]);
  });

  it('builds one HTTP sink from flags, adding the format path to a bare URL', () => {
    const [spec] = load([
      '--sink-url',
      'http://loki:3100',
      '--sink-format',
      'loki',
      '--sink-header',
      'X-A: b',
    ]);
    expect(spec).toMatchObject({
      kind: 'http',
      name: 'loki',
      format: 'loki',
      gzip: true,
      headers: [['X-A', 'b']],
    });
    expect(spec?.kind === 'http' && spec.url.href).toBe('http://loki:3100/loki/api/v1/push');
  });

  it('takes stdout and http together', () => {
    expect(
      load(['--sink', 'stdout', '--sink', 'http', '--sink-url', 'http://x/in']).map((s) => s.name),
    ).toEqual(['stdout', 'ndjson']);
  });

  it('names the problem: http without a URL, token and basic auth together, a bad header', () => {
    expect(() => load(['--sink', 'http'])).toThrow(
      '--sink-url: is required with --sink http; e.g. --sink-url http://loki:3100',
    );
    expect(() =>
      load(['--sink-url', 'http://x', '--sink-token-file', '/t', '--sink-basic-auth-file', '/b']),
    ).toThrow(/basic/);
    expect(() => load(['--sink-header', 'no colon'])).toThrow(
      '--sink-header: "no colon" is not an HTTP header',
    );
  });

  it('reads several sinks from the config file, with unique names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sink-options-'));
    const file = join(dir, 'config.yaml');
    await writeFile(
      file,
      [
        'sinks:',
        '  - type: stdout',
        '  - {format: elasticsearch, url: "https://es:9200", index: "agent-%Y.%m.%d", basicAuthFile: /s/es}',
        '  - {format: loki, url: "http://loki:3100", tokenFile: /s/loki, tenant: t1, labelFields: [level], structuredMetadata: true}',
        '  - {format: loki, url: "http://loki-2:3100", headers: {X-Env: prod}, gzip: false}',
      ].join('\n'),
    );
    const specs = load([], file);
    expect(specs.map((s) => s.name)).toEqual(['stdout', 'elasticsearch', 'loki', 'loki-2']);
    expect(specs[2]).toMatchObject({
      tenant: 't1',
      tokenFile: '/s/loki',
      labelFields: ['level'],
      structuredMetadata: true,
    });
    expect(specs[3]).toMatchObject({ gzip: false, headers: [['X-Env', 'prod']], structuredMetadata: false });
    await writeFile(file, 'sinks:\n  - {format: loki}\n');
    expect(() => load([], file)).toThrow(/item 1, field url: is required/);
    await writeFile(file, 'sinks:\n  - {url: "http://x", colour: red}\n');
    expect(() => load([], file)).toThrow(/item 1, field colour: is not a known field/);
    await writeFile(file, 'sinks:\n  - {url: "http://x"}\n');
    expect(() => load(['--sink', 'stdout'], file)).toThrow(/not both/);
    await rm(dir, { recursive: true, force: true });
  });

  it('names the option of a cross-field error the way it was set: env var or file field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sink-options-'));
    const file = join(dir, 'config.yaml');
    await writeFile(file, 'sinkBasicAuthFile: /b\n');
    const run =
      (env: Record<string, string>, argv: string[] = []) =>
      () =>
        loadConfig({
          program: 'log-sidecar',
          version: '0',
          description: '',
          envPrefix: 'LOG_SIDECAR',
          options: sinkOptions,
          argv,
          env,
          validate: validateSinkConfig,
        });
    expect(run({ LOG_SIDECAR_SINK: 'http' })).toThrow(/^--sink-url: is required with --sink http/);
    expect(
      run({ LOG_SIDECAR_SINK_URL: 'http://x', LOG_SIDECAR_SINK_TOKEN_FILE: '/t' }, ['--config', file]),
    ).toThrow(/^LOG_SIDECAR_SINK_TOKEN_FILE: "\/t" is given together with basicAuthFile/);
    await writeFile(file, 'sinkTokenFile: /t\nsinkBasicAuthFile: /b\n');
    expect(run({ LOG_SIDECAR_SINK_URL: 'http://x' }, ['--config', file])).toThrow(
      `sinkTokenFile (in ${file}): "/t" is given together with basicAuthFile`,
    );
    await rm(dir, { recursive: true, force: true });
  });

  it('gives a sinks: item the same defaults and forms as the flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sink-options-'));
    const file = join(dir, 'config.yaml');
    await writeFile(file, 'sinks:\n  - {url: "http://x", headers: ["X-A: b"], labelFields: level}\n');
    const [fromItem] = load([], file);
    const [fromFlags] = load([
      '--sink-url',
      'http://x',
      '--sink-header',
      'X-A: b',
      '--sink-label-field',
      'level',
    ]);
    expect(fromItem).toEqual({ ...fromFlags, fromList: true });
    await writeFile(file, 'sinks:\n  - {url: "http://x", headers: {"bad name": v}}\n');
    expect(() => load([], file)).toThrow(/item 1, field headers: "bad name: v" is not an HTTP header/);
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a --sink-* option no sink would use: --sink-format loki without a URL, any with a sinks: list', async () => {
    expect(() => load(['--sink-format', 'loki'])).toThrow(
      '--sink-format: "loki" is given, but no HTTP sink is configured, so nothing would use it; add --sink-url',
    );
    expect(() => load(['--sink-tenant', 'team-a'])).toThrow(
      /^--sink-tenant: "team-a" is given, but no HTTP sink/,
    );
    const file = await configFile('sinks:\n  - {type: stdout}\n');
    expect(() => load(['--sink-gzip', 'false'], file)).toThrow(
      /^--sink-gzip: "false" is given together with a sinks: list in the config file, whose items it does not apply to; set it as field gzip of the sinks: items instead/,
    );
    await rm(join(file, '..'), { recursive: true, force: true });
  });

  it('rejects a request timeout below 1s, which turned every answer into a duplicate', () => {
    expect(() => load(['--sink-url', 'http://h/', '--sink-request-timeout', '0s'])).toThrow(
      '--sink-request-timeout: "0s" is below the minimum of 1s; use a duration from 1s to 10m',
    );
  });

  it('takes an OTLP endpoint and headers from OTEL_EXPORTER_OTLP_*, below its own options', async () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-env=1,x-team=env',
    };
    const [fromEnv] = load(['--sink-format', 'otlp', '--sink-header', 'X-Team: own'], undefined, env);
    expect(fromEnv).toMatchObject({
      kind: 'http',
      format: 'otlp',
      url: new URL('http://collector:4318/v1/logs'),
    });
    expect(fromEnv?.kind === 'http' && fromEnv.headers).toEqual([
      ['x-env', '1'],
      ['X-Team', 'own'],
    ]);
    const [own] = load(['--sink-format', 'otlp', '--sink-url', 'http://mine:4318'], undefined, env);
    expect(own?.kind === 'http' && own.url.href).toBe('http://mine:4318/v1/logs');
    const file = await configFile('sinks:\n  - {type: http, format: otlp}\n');
    const [item] = load([], file, { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://logs:4318/in' });
    expect(item?.kind === 'http' && item.url.href).toBe('http://logs:4318/in');
    expect(() => load([], file)).toThrow(
      /item 1, field url: is required for an otlp sink unless OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    await rm(join(file, '..'), { recursive: true, force: true });
  });

  it('reads header files from --sink-header-file and from a headerFiles mapping of an item', async () => {
    const [flags] = load(['--sink-url', 'http://h/', '--sink-header-file', 'DD-API-KEY: /run/secrets/dd']);
    expect(flags?.kind === 'http' && flags.headerFiles).toEqual([['DD-API-KEY', '/run/secrets/dd']]);
    const file = await configFile(
      'sinks:\n  - {type: http, url: "http://splunk:8088/services/collector", headerFiles: {Authorization: /run/secrets/hec}}\n',
    );
    const [item] = load([], file);
    expect(item?.kind === 'http' && item.headerFiles).toEqual([['Authorization', '/run/secrets/hec']]);
    expect(() => load(['--sink-url', 'http://h/', '--sink-header-file', 'no-colon'])).toThrow(
      /^--sink-header-file: "no-colon" is not a header file; use "Name: \/path\/of\/a\/file"/,
    );
    await rm(join(file, '..'), { recursive: true, force: true });
  });
});
