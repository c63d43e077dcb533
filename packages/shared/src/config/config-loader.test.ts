import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidValue } from './config-error.js';
import { loadConfig, splitList } from './config-loader.js';
import { listOption, option, optionalOption, requiredOption } from './option.js';
import { enumParser, parseByteSize, parseDuration, parseLabel, parseString } from './parsers.js';

const options = {
  path: listOption(parseString, { description: 'glob of log files', valueName: '<glob>', required: true }),
  shutdownTimeout: option(parseDuration, {
    description: 'shutdown deadline',
    default: 25_000,
    defaultText: '25s',
  }),
  batchMaxBytes: option(parseByteSize, { description: 'batch size', default: 1_048_576 }),
  format: option(enumParser(['json', 'raw']), {
    description: 'line format',
    default: 'json' as 'json' | 'raw',
  }),
  label: listOption(parseLabel, { description: 'static label' }),
  tenant: optionalOption(parseString, { description: 'tenant' }),
  sinks: option((raw) => [raw], {
    description: 'sink list',
    default: [] as unknown[],
    fileOnly: true,
    fromFile: (raw) => {
      if (!Array.isArray(raw))
        throw new InvalidValue('is not a list', 'write a YAML list of sinks, e.g. - type: stdout');
      return raw;
    },
  }),
};

function load(argv: string[], env: Record<string, string> = {}) {
  const result = loadConfig({
    program: 'log-sidecar',
    version: '1.2.3',
    description: 'test',
    envPrefix: 'LOG_SIDECAR',
    options,
    argv,
    env,
  });
  if (result.action !== 'run') throw new Error(`expected a config, got ${result.action}`);
  return result.config;
}

function errorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

function configFile(text: string, name = 'config.yaml'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'config-')), name);
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('applies defaults and returns a frozen typed object', () => {
    const config = load(['--path', '/var/log/agent/*.log']);
    expect(config).toEqual({
      path: ['/var/log/agent/*.log'],
      shutdownTimeout: 25_000,
      batchMaxBytes: 1_048_576,
      format: 'json',
      label: [],
      tenant: undefined,
      sinks: [],
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.path)).toBe(true);
  });

  it('takes flag over env over file over default', () => {
    const file = configFile('shutdownTimeout: 5s\nformat: raw\nbatchMaxBytes: 64KiB\npath: [/a/*.log]\n');
    const config = load(['--config', file, '--shutdown-timeout', '1s'], {
      LOG_SIDECAR_SHUTDOWN_TIMEOUT: '2s',
      LOG_SIDECAR_FORMAT: 'json',
    });
    expect(config.shutdownTimeout).toBe(1000);
    expect(config.format).toBe('json');
    expect(config.batchMaxBytes).toBe(65_536);
    expect(config.path).toEqual(['/a/*.log']);
  });

  it('reads the config file path from the env var too, and JSON files', () => {
    const file = configFile(
      JSON.stringify({ path: '/b/*.log', label: ['team=x', 'env=prod'] }),
      'config.json',
    );
    const config = load([], { LOG_SIDECAR_CONFIG: file });
    expect(config.path).toEqual(['/b/*.log']);
    expect(config.label).toEqual([
      ['team', 'x'],
      ['env', 'prod'],
    ]);
  });

  it('collects a repeated flag and splits an env list on top-level commas only', () => {
    expect(load(['--path', '/a/*.log', '--path', '/b/*.log']).path).toEqual(['/a/*.log', '/b/*.log']);
    expect(load([], { LOG_SIDECAR_PATH: '/a/*.{log,txt}, /b/[ab,]*.log' }).path).toEqual([
      '/a/*.{log,txt}',
      '/b/[ab,]*.log',
    ]);
  });

  it('gives structured file values to the option that reads them', () => {
    const file = configFile('path: /a/*.log\nsinks:\n  - type: stdout\n  - type: http\n    url: http://x\n');
    expect(load(['--config', file]).sinks).toEqual([{ type: 'stdout' }, { type: 'http', url: 'http://x' }]);
  });

  it('names the flag, the value, what is allowed and an example', () => {
    const error = errorOf(() => load(['--path', 'x', '--shutdown-timeout', 'fast']));
    expect(error.message).toBe(
      '--shutdown-timeout: "fast" is not a duration; use a number with ms, s or m, e.g. 1s',
    );
    expect(error.option).toBe('--shutdown-timeout');
    expect(error.value).toBe('fast');
  });

  it('names the env var when the bad value came from the environment', () => {
    expect(errorOf(() => load(['--path', 'x'], { LOG_SIDECAR_FORMAT: 'xml' })).message).toBe(
      'LOG_SIDECAR_FORMAT: "xml" is not one of json, raw; use one of json, raw, e.g. json',
    );
  });

  it('names the field and the file when the bad value came from the file', () => {
    const file = configFile('path: x\nbatchMaxBytes: huge\n');
    expect(errorOf(() => load(['--config', file])).message).toBe(
      `batchMaxBytes (in ${file}): "huge" is not a byte size; use a number with B, KiB, MiB or GiB, e.g. 1MiB`,
    );
    const nested = configFile('path: x\nshutdownTimeout: {a: 1}\n');
    expect(errorOf(() => load(['--config', nested])).message).toMatch(
      /^shutdownTimeout \(in .*\): "\{\\"a\\":1\}" is not a single value/,
    );
    const structured = configFile('path: x\nsinks: stdout\n');
    expect(errorOf(() => load(['--config', structured])).message).toBe(
      `sinks (in ${structured}): is not a list; write a YAML list of sinks, e.g. - type: stdout`,
    );
  });

  it('rejects unknown fields in a config file, listing the known ones', () => {
    const file = configFile('path: x\nshutdown_timeout: 5s\n');
    expect(errorOf(() => load(['--config', file])).message).toBe(
      `shutdown_timeout (in ${file}): is not a known field; use one of: path, shutdownTimeout, batchMaxBytes, format, label, tenant, sinks`,
    );
  });

  it('rejects unreadable, malformed and non-mapping config files', () => {
    expect(errorOf(() => load(['--config', '/nonexistent/config.yaml'])).message).toBe(
      '--config: "/nonexistent/config.yaml" cannot be read (ENOENT); give the path of a readable YAML or JSON file',
    );
    expect(errorOf(() => load(['--config', configFile('path: [x\n')])).message).toMatch(
      /is not valid YAML or JSON/,
    );
    expect(errorOf(() => load(['--config', configFile('- a\n- b\n')])).message).toMatch(
      /is not a mapping of option names to values/,
    );
    expect(errorOf(() => load(['--config', configFile('path: x\npath: y\n')])).message).toMatch(
      /is not valid YAML or JSON/,
    );
  });

  it('says a required option is missing and where it can be set', () => {
    expect(errorOf(() => load([])).message).toBe(
      '--path: is required; set it with --path, LOG_SIDECAR_PATH or field path in the --config file',
    );
  });

  it('rejects unknown flags, stray arguments and a single-valued flag given twice', () => {
    expect(errorOf(() => load(['--path', 'x', '--bogus', '1'])).message).toBe(
      "command line: unknown option '--bogus'; see log-sidecar --help for the options",
    );
    expect(errorOf(() => load(['--path', 'x', 'stray'])).message).toMatch(
      /^command line: too many arguments/,
    );
    expect(errorOf(() => load(['--path', 'x', '--format', 'raw', '--format', 'json'])).message).toBe(
      '--format: "json" is given more than once; give it once',
    );
  });

  it('does not offer file-only options as flags or env vars', () => {
    expect(errorOf(() => load(['--path', 'x', '--sinks', 'y'])).message).toMatch(/unknown option '--sinks'/);
    expect(load(['--path', 'x'], { LOG_SIDECAR_SINKS: 'y' }).sinks).toEqual([]);
  });

  it('answers --help with every option, its env var and default, and --version', () => {
    const help = loadConfig({
      program: 'log-sidecar',
      version: '1.2.3',
      description: 'test',
      envPrefix: 'LOG_SIDECAR',
      options,
      argv: ['--help'],
      env: {},
    });
    expect(help.action).toBe('exit');
    const output = help.action === 'exit' ? help.output : '';
    expect(output).toContain('--shutdown-timeout <value>');
    expect(output).toContain('LOG_SIDECAR_SHUTDOWN_TIMEOUT');
    expect(output).toContain('default 25s');
    expect(output).toContain('--config <file>');
    const version = loadConfig({
      program: 'log-sidecar',
      version: '1.2.3',
      description: 'test',
      envPrefix: 'LOG_SIDECAR',
      options,
      argv: ['--version'],
      env: {},
    });
    expect(version).toEqual({ action: 'exit', output: '1.2.3\n' });
  });

  /** A timeout that must stay below an interval, the cross-field check these two tests make. */
  const timed = (argv: string[], env: Record<string, string>) => () =>
    loadConfig({
      program: 'metrics-sidecar',
      version: '1',
      description: 'test',
      envPrefix: 'METRICS_SIDECAR',
      options: {
        timeout: option(parseDuration, { description: 't', default: 5000 }),
        interval: option(parseDuration, { description: 'i', default: 15_000 }),
      },
      argv,
      env,
      validate: (config, names) => {
        if (config.timeout >= config.interval) {
          throw new ConfigError(
            names.timeout,
            `${config.timeout / 1000}s`,
            `is not below ${names.interval} (${config.interval / 1000}s)`,
            'use a timeout shorter than the interval, e.g. 5s',
          );
        }
      },
    });

  it('runs cross-field validation with the options named as flags', () => {
    expect(errorOf(timed(['--timeout', '20s'], {})).message).toBe(
      '--timeout: "20s" is not below --interval (15s); use a timeout shorter than the interval, e.g. 5s',
    );
  });

  it('names each option in a cross-field error the way it was set: env var or file field', () => {
    const file = configFile('interval: 10s\n');
    expect(errorOf(timed(['--config', file], { METRICS_SIDECAR_TIMEOUT: '20s' })).message).toBe(
      `METRICS_SIDECAR_TIMEOUT: "20s" is not below interval (in ${file}) (10s); use a timeout shorter than the interval, e.g. 5s`,
    );
  });

  it('types a required single option as always present', () => {
    const result = loadConfig({
      program: 'p',
      version: '1',
      description: 'd',
      envPrefix: 'P',
      options: { name: requiredOption(parseString, { description: 'n' }) },
      argv: ['--name', 'x'],
      env: {},
    });
    const name: string = result.action === 'run' ? result.config.name : '';
    expect(name).toBe('x');
  });
});

describe('splitList', () => {
  it('keeps commas inside braces and brackets', () => {
    expect(splitList('a,b')).toEqual(['a', 'b']);
    expect(splitList('x/{a,b}/*.log,y')).toEqual(['x/{a,b}/*.log', 'y']);
    expect(splitList(' a , ,b ')).toEqual(['a', 'b']);
  });
});
