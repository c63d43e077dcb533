import { join, resolve } from 'node:path';
import {
  byteSizeParser,
  ConfigError,
  type ConfigOf,
  configSchema,
  durationParser,
  enumParser,
  InvalidValue,
  integerParser,
  LOG_LEVELS,
  type LogLevel,
  listOption,
  type OptionDefs,
  type OptionNames,
  option,
  optionalOption,
  type Parser,
  parseBoolean,
  parseLabel,
  parseListenAddress,
  parseString,
  shapedParser,
  type ValidateContext,
  type WrittenValues,
} from '@agent-sidecars/shared';
import picomatch from 'picomatch';
import { deliveryOptions } from './delivery/delivery-options.js';
import { podLabelOptions } from './pod-labels.js';
import type { RecordFormat } from './record-builder.js';
import { sinkOptions, validateSinkConfig } from './sink/sink-options.js';
import type { MultilineMode } from './source/multiline.js';

/** `none`, `python`, or a regular expression that matches the first line of a record. */
export const parseMultiline: Parser<MultilineMode> = shapedParser(
  (raw): MultilineMode => {
    const text = raw.trim();
    if (text === 'none') return { kind: 'none' };
    if (text === 'python') return { kind: 'python' };
    try {
      return { kind: 'regex', firstLine: new RegExp(text) };
    } catch (error) {
      throw new InvalidValue(
        `is neither none, python nor a regular expression (${(error as Error).message})`,
        'use none, python, or a regular expression matching the first line of a record, e.g. ^\\d{4}-\\d{2}-\\d{2}',
      );
    }
  },
  { type: 'string', pattern: '\\S' },
  (mode) => (mode.kind === 'regex' ? mode.firstLine.source : mode.kind),
);

const FIELD_NAME = /^[A-Za-z_@][A-Za-z0-9_.@-]{0,127}$/;

/** A JSON field name, dotted ones included (`error.stack_trace`, as ECS writes it). */
const parseFieldName: Parser<string> = shapedParser(
  (raw) => {
    const text = raw.trim();
    if (!FIELD_NAME.test(text)) {
      throw new InvalidValue(
        'is not a field name',
        'use letters, digits, _ . @ and -, starting with a letter, _ or @, e.g. exc_info or error.stack_trace',
      );
    }
    return text;
  },
  { type: 'string', pattern: FIELD_NAME.source },
);

const parseGlob: Parser<string> = shapedParser(
  (raw) => {
    const text = parseString(raw).trim();
    if (text.endsWith('/')) {
      throw new InvalidValue('names a directory', 'give a glob of files, e.g. /var/log/agent/*.log');
    }
    return text;
  },
  { type: 'string', pattern: '[^/\\s]\\s*$' },
);

/** Downward API variables that become labels when set. */
export const DOWNWARD_API_LABELS: Readonly<Record<string, string>> = {
  POD_NAME: 'pod',
  POD_NAMESPACE: 'namespace',
  NODE_NAME: 'node',
  CONTAINER_NAME: 'container',
};

export const LOG_SIDECAR_HELP_FOOTER = [
  'Several sinks at once (say Loki and stdout, or two Lokis) take the sinks: list above; SINKS.md says which options are per sink and which apply to all.',
  '',
  'Labels: POD_NAME, POD_NAMESPACE, NODE_NAME and CONTAINER_NAME from the environment become the labels pod, namespace, node and container of every record (--label wins); start-up logs which were taken.',
  '',
  'Exit codes: 0 every line of every matching file delivered; 1 not so: the shutdown deadline passed with records undelivered, or a matching file could not be read to its end (logged per file with the reason), or a runtime failure such as a port in use; 2 bad config.',
  '',
  'Example:',
  '  log-sidecar --path "/var/log/agent/*.log" --multiline python \\',
  '    --sink-url http://loki:3100 --sink-format loki',
  '  log-sidecar validate --config /etc/log-sidecar/config.yaml',
].join('\n');

/** --help sections, in order. */
export const LOG_SIDECAR_GROUPS = {
  source: 'Source (which files, how they are followed):',
  parsing: 'Parsing (lines into records):',
  sinks: 'Sinks (flags set one; a sinks: list in --config sets several):',
  delivery: 'Delivery (batching, retries, the shutdown deadline):',
  runtime: 'Runtime:',
} as const;

/** The options with a --help group set, `overrides` naming the ones that belong elsewhere. */
function grouped<O extends OptionDefs>(
  options: O,
  group: string,
  overrides: Partial<Record<keyof O, string>>,
  show: Partial<Record<keyof O, (value: never) => unknown>>,
): O {
  return Object.fromEntries(
    Object.entries(options).map(([key, def]) => [
      key,
      Object.freeze({
        ...def,
        group: def.group ?? overrides[key as keyof O] ?? group,
        show: def.show ?? show[key as keyof O],
      }),
    ]),
  ) as O;
}

const { sinks: sinksList, ...sinkFlags } = sinkOptions;

export const logSidecarOptions = {
  path: listOption(parseGlob, {
    group: 'source',
    description: 'glob of log files to read, re-evaluated as files appear',
    valueName: '<glob>',
    required: true,
  }),
  exclude: listOption(parseGlob, {
    group: 'source',
    description: 'glob of files to leave out (without a /, matched against the file name)',
    valueName: '<glob>',
  }),
  ...grouped(sinkFlags, 'sinks', {}, {}),
  ...grouped(deliveryOptions, 'delivery', {}, {}),
  // After the delivery options, where it always was in --help and the schema.
  ...grouped({ sinks: sinksList }, 'sinks', {}, {}),
  checkpointDir: optionalOption(parseString, {
    group: 'source',
    description: 'directory for the checkpoint file',
    valueName: '<dir>',
    defaultText: '<directory of the first --path>/.log-sidecar',
  }),
  listen: option(parseListenAddress, {
    group: 'runtime',
    description: 'address of /livez, /readyz and /metrics',
    valueName: '<[host]:port>',
    default: { host: '0.0.0.0', port: 9091 },
    defaultText: ':9091',
  }),
  shutdownTimeout: option(durationParser({ min: 1000, max: 60 * 60_000 }), {
    group: 'runtime',
    description: 'time allowed from SIGTERM to exit, below the Pod terminationGracePeriodSeconds',
    valueName: '<duration>',
    default: 25_000,
    defaultText: '25s',
  }),
  maxLineBytes: option(byteSizeParser({ min: 1024, max: 64 * 1024 ** 2 }), {
    group: 'parsing',
    description: 'longer lines are cut to this size and marked truncated',
    valueName: '<size>',
    default: 256 * 1024,
    defaultText: '256KiB',
  }),
  bufferMaxBytes: option(byteSizeParser({ min: 64 * 1024, max: 1024 ** 3 }), {
    group: 'delivery',
    description: 'memory for records held until delivered (text + 256 B each); reading pauses above it',
    valueName: '<size>',
    default: 16 * 1024 * 1024,
    defaultText: '16MiB',
  }),
  batchMaxRecords: option(integerParser(1, 100_000), {
    group: 'delivery',
    description:
      'records per batch sent to a sink, at most; batches past 1000 records form only while more is waiting to be read (a cold file, a catch-up), live lines go out 1000 at a time (or this many, if fewer)',
    valueName: '<n>',
    default: 10_000,
    defaultText: '10000',
  }),
  batchMaxBytes: option(byteSizeParser({ min: 1024, max: 64 * 1024 ** 2 }), {
    group: 'delivery',
    description: 'bytes per batch sent to a sink',
    valueName: '<size>',
    default: 1024 * 1024,
    defaultText: '1MiB',
  }),
  batchTimeout: option(durationParser({ min: 1, max: 60_000 }), {
    group: 'delivery',
    description: 'longest a record waits for its batch to fill',
    valueName: '<duration>',
    default: 1000,
    defaultText: '1s',
  }),
  format: option<RecordFormat>(enumParser(['json', 'raw']), {
    group: 'parsing',
    description: 'json: JSON lines become fields, other lines {"message": ...}; raw: every line is text',
    valueName: '<json|raw>',
    default: 'json',
    defaultText: 'json',
  }),
  multiline: option(parseMultiline, {
    group: 'parsing',
    description: 'group lines into records: none, python (tracebacks), or a regex of a first line',
    valueName: '<none|python|regex>',
    default: { kind: 'none' },
    defaultText: 'none',
  }),
  multilineField: option(parseFieldName, {
    group: 'parsing',
    description:
      'with --format json, the field that holds the lines after a JSON first line of a multiline record (the traceback)',
    valueName: '<name>',
    default: 'exc_info',
    defaultText: 'exc_info',
  }),
  multilineTimeout: option(durationParser({ min: 10, max: 10 * 60_000 }), {
    group: 'parsing',
    description: 'a pending multiline record is emitted after this much quiet in its file',
    valueName: '<duration>',
    default: 1000,
    defaultText: '1s',
  }),
  ...podLabelOptions,
  label: listOption(parseLabel, {
    group: 'parsing',
    description:
      'key=value label on every record (pod, namespace, node, container come from the Downward API env)',
    valueName: '<key=value>',
  }),
  scanInterval: option(durationParser({ min: 50, max: 60 * 60_000 }), {
    group: 'source',
    description: 'how often the globs are listed again and open files checked for truncation and rotation',
    valueName: '<duration>',
    default: 1000,
    defaultText: '1s',
  }),
  followRotated: option(parseBoolean, {
    group: 'source',
    description:
      'also read rotated files next to matching ones (app.log.1, app.log.2026-11-21, app.log-20261121), modified within --checkpoint-grace',
    valueName: '<true|false>',
    default: true,
    defaultText: 'true',
  }),
  maxOpenFiles: option(integerParser(1, 65_536), {
    group: 'source',
    description:
      'files held open at a time; further matching files wait their turn (read, never skipped), keep it below ulimit -n',
    valueName: '<n>',
    default: 256,
    defaultText: '256',
  }),
  readInterval: option(durationParser({ min: 10, max: 60_000 }), {
    group: 'source',
    description: 'how often open files are checked for new lines',
    valueName: '<duration>',
    default: 250,
    defaultText: '250ms',
  }),
  maxPollInterval: option(durationParser({ min: 10, max: 60_000 }), {
    group: 'source',
    description:
      'while nothing changes, reads and scans slow down to this; a change or a file-system event brings them back to --read-interval and --scan-interval (at or below them: no slowing down)',
    valueName: '<duration>',
    default: 2000,
    defaultText: '2s',
  }),
  checkpointGrace: option(durationParser({ min: 60_000, max: 30 * 24 * 60 * 60_000 }), {
    group: 'source',
    description: 'checkpoints of files gone for this long are removed',
    valueName: '<duration>',
    default: 60 * 60_000,
    defaultText: '1h',
  }),
  logLevel: option<LogLevel>(enumParser(LOG_LEVELS), {
    group: 'runtime',
    description: "the sidecar's own log level (JSON on stderr)",
    valueName: '<level>',
    default: 'info',
    defaultText: 'info',
  }),
} as const;

export type LogSidecarConfig = ConfigOf<typeof logSidecarOptions>;

export function validateConfig(
  config: LogSidecarConfig,
  names: OptionNames<typeof logSidecarOptions>,
  context: ValidateContext<typeof logSidecarOptions> = {
    written: {} as WrittenValues<typeof logSidecarOptions>,
    given: new Set(),
    env: {},
  },
): void {
  validateSinkConfig(config, names, context);
  const { written } = context;
  if (config.bufferMaxBytes < config.maxLineBytes) {
    throw new ConfigError(
      names.bufferMaxBytes,
      written.bufferMaxBytes,
      `is smaller than ${names.maxLineBytes} (${written.maxLineBytes})`,
      'hold at least one longest line, e.g. 16MiB',
    );
  }
}

/** `--checkpoint-dir`, or `.log-sidecar` beside the first glob's base directory. */
export function checkpointDirOf(config: LogSidecarConfig, cwd: string): string {
  if (config.checkpointDir !== undefined) return resolve(cwd, config.checkpointDir);
  const first = resolve(cwd, config.path[0]!);
  const scanned = picomatch.scan(first);
  const base = scanned.isGlob ? scanned.base : resolve(first, '..');
  return join(base, '.log-sidecar');
}

/** A label on every record, and where it came from: `env POD_NAME` or `--label`. */
export interface LabelSource {
  readonly value: string;
  readonly from: string;
}

/**
 * `--label` pairs over the Downward API ones (an explicit label wins), each with its origin, so start-up
 * can log which labels were taken from where (an unrelated CONTAINER_NAME in a shell is then visible).
 */
export function labelSourcesOf(
  config: LogSidecarConfig,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, LabelSource> {
  const labels: Record<string, LabelSource> = {};
  for (const [variable, label] of Object.entries(DOWNWARD_API_LABELS)) {
    const value = env[variable];
    if (value !== undefined && value !== '') labels[label] = { value, from: `env ${variable}` };
  }
  for (const [key, value] of config.label) labels[key] = { value, from: '--label' };
  return labels;
}

/** `--label` pairs over the Downward API ones (an explicit label wins). */
export function labelsOf(
  config: LogSidecarConfig,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labelSourcesOf(config, env)).map(([key, { value }]) => [key, value]),
  );
}

/** The JSON Schema of the --config file, generated from the option table above (schemas/ holds a copy). */
export function logSidecarConfigSchema(): Record<string, unknown> {
  return configSchema(logSidecarOptions, {
    id: 'https://github.com/agent-sidecars/agent-sidecars/schemas/log-sidecar.config.schema.json',
    title: 'log-sidecar --config file',
  });
}
