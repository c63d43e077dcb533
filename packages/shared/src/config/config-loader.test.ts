// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} references are the subject here, not template slips.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidValue } from './config-error.js';
import { loadConfig, splitList } from './config-loader.js';
import { renderEffectiveConfig } from './effective-config.js';
import { listOption, option, optionalOption, requiredOption } from './option.js';
import {
  durationParser,
  enumParser,
  integerParser,
  parseBoolean,
  parseByteSize,
  parseDuration,
  parseLabel,
  parseString,
  parseUrl,
} from './parsers.js';

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
      '--shutdown-timeout: "fast" is not a duration; use a number with h, m, s or ms, alone or combined, e.g. 1s, 1h30m or 250ms',
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

describe('loadConfig: environment in files, sources, types and check modes', () => {
  const bounded = {
    path: listOption(parseString, { description: 'glob', valueName: '<glob>', required: true }),
    shutdownTimeout: option(durationParser({ min: 1000, max: 60 * 60_000 }), {
      description: 'deadline',
      default: 25_000,
      group: 'runtime',
    }),
    batchMaxRecords: option(integerParser(1, 100), {
      description: 'records',
      default: 10,
      group: 'delivery',
    }),
    gzip: option(parseBoolean, { description: 'gzip', default: true, group: 'delivery' }),
    sinks: optionalOption<unknown>(
      () => {
        throw new InvalidValue('is file only', 'use the file');
      },
      { description: 'sink list', fileOnly: true, fromFile: (raw) => raw },
    ),
  };
  const run = (argv: string[], env: Record<string, string> = {}) =>
    loadConfig({
      program: 'log-sidecar',
      version: '1',
      description: 'test',
      envPrefix: 'LOG_SIDECAR',
      options: bounded,
      argv,
      env,
      checkModes: true,
      groups: { delivery: 'Delivery:', runtime: 'Runtime:' },
    });

  it('replaces ${VAR} in file values, lists and sinks: items, with defaults and $$', () => {
    const file = configFile(
      'path: ["${LOG_DIR}/*.log", "${OTHER:-/b}/*.log"]\nshutdownTimeout: ${DEADLINE}\n' +
        'sinks:\n  - {url: "${LOKI_URL}", password: "pa$$word"}\n',
    );
    const result = run(['--config', file], {
      LOG_DIR: '/a',
      DEADLINE: '45m30s',
      LOKI_URL: 'http://loki:3100',
    });
    if (result.action === 'exit') throw new Error('unexpected exit');
    expect(result.config.path).toEqual(['/a/*.log', '/b/*.log']);
    expect(result.config.shutdownTimeout).toBe(2_730_000);
    expect(result.config.sinks).toEqual([{ url: 'http://loki:3100', password: 'pa$word' }]);
  });

  it('names the field and the reference when a variable is unset or its value is bad', () => {
    const file = configFile('path: x\nshutdownTimeout: ${DEADLINE}\n');
    expect(errorOf(() => run(['--config', file])).message).toBe(
      `shutdownTimeout (in ${file}): "\${DEADLINE}" uses \${DEADLINE}, which is not set in the environment; set DEADLINE, or give a default as in \${DEADLINE:-value}`,
    );
    expect(errorOf(() => run(['--config', file], { DEADLINE: 'soon' })).message).toMatch(
      new RegExp(`^shutdownTimeout \\(in ${file}, from \\$\\{DEADLINE\\}\\): "soon" is not a duration`),
    );
    const sinks = configFile('path: x\nsinks:\n  - url: ${NOPE}\n');
    expect(errorOf(() => run(['--config', sinks])).message).toMatch(
      /^sinks \(in .*\): item 1, field url: uses \$\{NOPE\}, which is not set/,
    );
  });

  it('rejects a number or boolean where text belongs (path: 5), but takes numbers for counts', () => {
    expect(errorOf(() => run(['--config', configFile('path: 5\n')])).message).toMatch(
      /^path \(in .*\): "5" is a number, not <glob>; write <glob> as text/,
    );
    expect(errorOf(() => run(['--config', configFile('path: x\ngzip: 1\n')])).message).toMatch(
      /^gzip \(in .*\): "1" is a number, not <value>/,
    );
    const ok = run(['--config', configFile('path: x\nbatchMaxRecords: 50\ngzip: false\n')]);
    expect(ok.action !== 'exit' && ok.config.batchMaxRecords).toBe(50);
  });

  it('rejects values outside the bounds declared in the option table, from any source', () => {
    expect(errorOf(() => run(['--path', 'x', '--shutdown-timeout', '0s'])).message).toBe(
      '--shutdown-timeout: "0s" is below the minimum of 1s; use a duration from 1s to 1h',
    );
    expect(errorOf(() => run(['--path', 'x'], { LOG_SIDECAR_BATCH_MAX_RECORDS: '0' })).message).toMatch(
      /^LOG_SIDECAR_BATCH_MAX_RECORDS: "0" is out of range; use a whole number from 1 to 100/,
    );
  });

  it('records where each value came from', () => {
    const file = configFile('gzip: false\n');
    const result = run(['--config', file, '--path', 'x'], { LOG_SIDECAR_SHUTDOWN_TIMEOUT: '5s' });
    if (result.action === 'exit') throw new Error('unexpected exit');
    expect(result.action).toBe('run');
    expect(result.sources).toEqual({
      path: { kind: 'flag', name: '--path' },
      shutdownTimeout: { kind: 'env', name: 'LOG_SIDECAR_SHUTDOWN_TIMEOUT' },
      batchMaxRecords: { kind: 'default', name: 'default' },
      gzip: { kind: 'file', name: `gzip (in ${file})` },
      sinks: { kind: 'default', name: 'default' },
    });
  });

  it('answers --dry-run and a leading validate with check, --print-config with print', () => {
    expect(run(['--path', 'x', '--dry-run']).action).toBe('check');
    expect(run(['validate', '--path', 'x']).action).toBe('check');
    expect(run(['--print-config', '--path', 'x']).action).toBe('print');
    expect(errorOf(() => run(['--path', 'x', 'validate'])).message).toMatch(/too many arguments/);
  });

  it('groups --help, wraps it to the given width and lists file-only fields', () => {
    const result = loadConfig({
      program: 'log-sidecar',
      version: '1',
      description: 'test',
      envPrefix: 'LOG_SIDECAR',
      options: bounded,
      argv: ['--help'],
      env: {},
      checkModes: true,
      groups: { delivery: 'Delivery:', runtime: 'Runtime:' },
      helpWidth: 50,
    });
    if (result.action !== 'exit') throw new Error('expected help');
    const help = result.output;
    expect(help.indexOf('Delivery:')).toBeLessThan(help.indexOf('Runtime:'));
    expect(help.indexOf('--batch-max-records')).toBeGreaterThan(help.indexOf('Delivery:'));
    expect(help).toContain('--dry-run');
    expect(help).toContain('Config file only:\n  sinks: sink list');
    expect(help).toMatch(/default 25s; 1s\.\.1h/);
    for (const line of help.split('\n')) expect(line.length).toBeLessThanOrEqual(50);
  });
});

describe('renderEffectiveConfig', () => {
  it('prints each value as written with its source, masking a URL password', () => {
    const options = {
      url: option(parseUrl, { description: 'url', default: new URL('http://u:secret@h:1/') }),
      timeout: option(parseDuration, { description: 'timeout', default: 90_000 }),
      tenant: optionalOption(parseString, { description: 'tenant' }),
    };
    const text = renderEffectiveConfig(
      'x',
      options,
      { url: new URL('http://u:secret@h:1/'), timeout: 90_000, tenant: undefined },
      {
        url: { kind: 'flag', name: '--url' },
        timeout: { kind: 'file', name: 'timeout (in /c.yaml)' },
        tenant: { kind: 'default', name: 'default' },
      },
      '/c.yaml',
    );
    expect(text).toContain('url: "http://u:***@h:1/"  # flag --url');
    expect(text).toContain('timeout: "1m30s"  # file /c.yaml');
    expect(text).toContain('# tenant: not set');
    expect(text).not.toContain('u:secret');
  });
});
