import { join, resolve } from 'node:path';
import {
  ConfigError,
  type ConfigOf,
  enumParser,
  InvalidValue,
  LOG_LEVELS,
  type LogLevel,
  listOption,
  type OptionNames,
  option,
  optionalOption,
  type Parser,
  parseBoolean,
  parseByteSize,
  parseDuration,
  parseLabel,
  parseListenAddress,
  parsePositiveInt,
  parseString,
} from '@agent-sidecars/shared';
import picomatch from 'picomatch';
import { deliveryOptions } from './delivery/delivery-options.js';
import type { RecordFormat } from './record-builder.js';
import { sinkOptions, validateSinkConfig } from './sink/sink-options.js';
import type { MultilineMode } from './source/multiline.js';

/** `none`, `python`, or a regular expression that matches the first line of a record. */
export const parseMultiline: Parser<MultilineMode> = (raw) => {
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
};

const parseGlob: Parser<string> = (raw) => {
  const text = parseString(raw).trim();
  if (text.endsWith('/')) {
    throw new InvalidValue('names a directory', 'give a glob of files, e.g. /var/log/agent/*.log');
  }
  return text;
};

/** Downward API variables that become labels when set. */
export const DOWNWARD_API_LABELS: Readonly<Record<string, string>> = {
  POD_NAME: 'pod',
  POD_NAMESPACE: 'namespace',
  NODE_NAME: 'node',
  CONTAINER_NAME: 'container',
};

export const logSidecarOptions = {
  path: listOption(parseGlob, {
    description: 'glob of log files to read, re-evaluated as files appear',
    valueName: '<glob>',
    required: true,
  }),
  exclude: listOption(parseGlob, {
    description: 'glob of files to leave out (without a /, matched against the file name)',
    valueName: '<glob>',
  }),
  ...sinkOptions,
  ...deliveryOptions,
  checkpointDir: optionalOption(parseString, {
    description: 'directory for the checkpoint file',
    valueName: '<dir>',
    defaultText: '<directory of the first --path>/.log-sidecar',
  }),
  listen: option(parseListenAddress, {
    description: 'address of /livez, /readyz and /metrics',
    valueName: '<[host]:port>',
    default: { host: '0.0.0.0', port: 9091 },
    defaultText: ':9091',
  }),
  shutdownTimeout: option(parseDuration, {
    description: 'time allowed from SIGTERM to exit, below the Pod terminationGracePeriodSeconds',
    valueName: '<duration>',
    default: 25_000,
    defaultText: '25s',
  }),
  maxLineBytes: option(parseByteSize, {
    description: 'longer lines are cut to this size and marked truncated',
    valueName: '<size>',
    default: 256 * 1024,
    defaultText: '256KiB',
  }),
  bufferMaxBytes: option(parseByteSize, {
    description: 'memory for records held until delivered (text + 256 B each); reading pauses above it',
    valueName: '<size>',
    default: 16 * 1024 * 1024,
    defaultText: '16MiB',
  }),
  batchMaxRecords: option(parsePositiveInt, {
    description: 'records per batch sent to a sink',
    valueName: '<n>',
    default: 1000,
    defaultText: '1000',
  }),
  batchMaxBytes: option(parseByteSize, {
    description: 'bytes per batch sent to a sink',
    valueName: '<size>',
    default: 1024 * 1024,
    defaultText: '1MiB',
  }),
  batchTimeout: option(parseDuration, {
    description: 'longest a record waits for its batch to fill',
    valueName: '<duration>',
    default: 1000,
    defaultText: '1s',
  }),
  format: option<RecordFormat>(enumParser(['json', 'raw']), {
    description: 'json: JSON lines become fields, other lines {"message": ...}; raw: every line is text',
    valueName: '<json|raw>',
    default: 'json',
    defaultText: 'json',
  }),
  multiline: option(parseMultiline, {
    description: 'group lines into records: none, python (tracebacks), or a regex of a first line',
    valueName: '<none|python|regex>',
    default: { kind: 'none' },
    defaultText: 'none',
  }),
  multilineTimeout: option(parseDuration, {
    description: 'a pending multiline record is emitted after this much quiet in its file',
    valueName: '<duration>',
    default: 1000,
    defaultText: '1s',
  }),
  label: listOption(parseLabel, {
    description:
      'key=value label on every record (pod, namespace, node, container come from the Downward API env)',
    valueName: '<key=value>',
  }),
  scanInterval: option(parseDuration, {
    description: 'how often the globs are listed again and open files checked for truncation and rotation',
    valueName: '<duration>',
    default: 1000,
    defaultText: '1s',
  }),
  followRotated: option(parseBoolean, {
    description:
      'also read rotated files next to matching ones (app.log.1, app.log.2026-11-21, app.log-20261121), modified within --checkpoint-grace',
    valueName: '<true|false>',
    default: true,
    defaultText: 'true',
  }),
  readInterval: option(parseDuration, {
    description: 'how often open files are checked for new lines',
    valueName: '<duration>',
    default: 250,
    defaultText: '250ms',
  }),
  checkpointGrace: option(parseDuration, {
    description: 'checkpoints of files gone for this long are removed',
    valueName: '<duration>',
    default: 60 * 60_000,
    defaultText: '60m',
  }),
  logLevel: option<LogLevel>(enumParser(LOG_LEVELS), {
    description: "the sidecar's own log level (JSON on stderr)",
    valueName: '<level>',
    default: 'info',
    defaultText: 'info',
  }),
} as const;

export type LogSidecarConfig = ConfigOf<typeof logSidecarOptions>;

export function validateConfig(config: LogSidecarConfig, names: OptionNames<typeof logSidecarOptions>): void {
  validateSinkConfig(config, names);
  if (config.maxLineBytes < 1) {
    throw new ConfigError(
      names.maxLineBytes,
      String(config.maxLineBytes),
      'is zero',
      'use a size of at least 1B, e.g. 256KiB',
    );
  }
  if (config.bufferMaxBytes < config.maxLineBytes) {
    throw new ConfigError(
      names.bufferMaxBytes,
      String(config.bufferMaxBytes),
      `is smaller than --max-line-bytes (${config.maxLineBytes})`,
      'hold at least one longest line, e.g. 16MiB',
    );
  }
  if (config.batchMaxBytes < 1) {
    throw new ConfigError(names.batchMaxBytes, String(config.batchMaxBytes), 'is zero', 'e.g. 1MiB');
  }
  if (config.shutdownTimeout < 1000) {
    throw new ConfigError(
      names.shutdownTimeout,
      `${config.shutdownTimeout}ms`,
      'is under 1s, too short to read files to their end and deliver them',
      'use a duration below the Pod terminationGracePeriodSeconds, e.g. 25s',
    );
  }
  if (config.readInterval < 10 || config.readInterval > 60_000) {
    throw new ConfigError(
      names.readInterval,
      `${config.readInterval}ms`,
      'is outside 10ms..60s',
      'e.g. 250ms',
    );
  }
  if (config.scanInterval < 50) {
    throw new ConfigError(names.scanInterval, `${config.scanInterval}ms`, 'is under 50ms', 'e.g. 1s');
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

/** `--label` pairs over the Downward API ones (an explicit label wins). */
export function labelsOf(
  config: LogSidecarConfig,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [variable, label] of Object.entries(DOWNWARD_API_LABELS)) {
    const value = env[variable];
    if (value !== undefined && value !== '') labels[label] = value;
  }
  for (const [key, value] of config.label) labels[key] = value;
  return labels;
}
