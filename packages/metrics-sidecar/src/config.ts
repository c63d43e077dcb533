import {
  ConfigError,
  type ConfigOf,
  enumParser,
  LOG_LEVELS,
  type LoadConfigInput,
  type LogLevel,
  listOption,
  type OptionNames,
  option,
  optionalOption,
  type Parser,
  parseByteSize,
  parseDuration,
  parseListenAddress,
  parsePositiveInt,
  parseUrl,
} from '@agent-sidecars/shared';
import { SELF_SOURCE, type Target } from './metrics-sidecar.js';

const TARGET_NAME = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s;

/** `URL` (named after its host:port) or `name=URL`. */
export const parseTarget: Parser<Target> = (raw) => {
  const text = raw.trim();
  const named = TARGET_NAME.exec(text);
  const url = parseUrl(named ? named[2]! : text);
  return Object.freeze({ name: named ? named[1]! : url.host, url });
};

export const DEFAULT_TARGET = 'http://127.0.0.1:8000/metrics';

export const metricsSidecarOptions = {
  target: listOption(parseTarget, {
    description:
      'a URL to scrape, or name=URL; the name is the target label of the sidecar own metrics (default: host:port)',
    valueName: '<[name=]url>',
    default: [parseTarget(DEFAULT_TARGET)],
    defaultText: DEFAULT_TARGET,
  }),
  listen: option(parseListenAddress, {
    description: 'where /metrics, /livez and /readyz are served',
    valueName: '<[host]:port>',
    default: { host: '0.0.0.0', port: 9090 },
    defaultText: ':9090',
  }),
  interval: option(parseDuration, {
    description: 'time between the starts of two scrapes of a target',
    valueName: '<duration>',
    default: 15_000,
    defaultText: '15s',
  }),
  timeout: option(parseDuration, {
    description: 'limit on one scrape, below --interval',
    valueName: '<duration>',
    default: 5_000,
    defaultText: '5s',
  }),
  staleAfter: optionalOption(parseDuration, {
    description: "age of a target's last good scrape after which its series are no longer served",
    valueName: '<duration>',
    defaultText: '2 x --interval',
  }),
  bodyLimit: option(parseByteSize, {
    description: 'limit on a decompressed scrape body',
    valueName: '<size>',
    default: 16 * 1024 * 1024,
    defaultText: '16MiB',
  }),
  sampleLimit: option(parsePositiveInt, {
    description: 'limit on the samples of one scrape',
    valueName: '<count>',
    default: 200_000,
    defaultText: '200000',
  }),
  shutdownTimeout: option(parseDuration, {
    description: 'limit on the shutdown after SIGTERM',
    valueName: '<duration>',
    default: 10_000,
    defaultText: '10s',
  }),
  logLevel: option<LogLevel>(enumParser(LOG_LEVELS), {
    description: `level of the sidecar's own logs (${LOG_LEVELS.join(', ')})`,
    valueName: '<level>',
    default: 'info',
    defaultText: 'info',
  }),
};

export type MetricsSidecarConfig = ConfigOf<typeof metricsSidecarOptions>;

/** The config with defaults that depend on other options filled in. */
export interface Settings extends MetricsSidecarConfig {
  readonly staleAfterMs: number;
}

export function settingsOf(config: MetricsSidecarConfig): Settings {
  return Object.freeze({ ...config, staleAfterMs: config.staleAfter ?? 2 * config.interval });
}

export function validateConfig(
  config: MetricsSidecarConfig,
  names: OptionNames<typeof metricsSidecarOptions>,
): void {
  if (config.interval <= 0) {
    throw new ConfigError(names.interval, '0', 'must be longer than 0', 'use e.g. 15s');
  }
  if (config.timeout <= 0) {
    throw new ConfigError(names.timeout, '0', 'must be longer than 0', 'use e.g. 5s');
  }
  if (config.timeout >= config.interval) {
    throw new ConfigError(
      names.timeout,
      `${config.timeout}ms`,
      `is not below --interval (${config.interval}ms), so scrapes could overlap`,
      'use a timeout shorter than the interval, e.g. --interval 15s --timeout 5s',
    );
  }
  if (config.staleAfter !== undefined && config.staleAfter < config.interval) {
    throw new ConfigError(
      names.staleAfter,
      `${config.staleAfter}ms`,
      `is below --interval (${config.interval}ms), so series would vanish between good scrapes`,
      'use at least the interval, e.g. 2 x --interval (the default)',
    );
  }
  if (config.target.length === 0) {
    throw new ConfigError(
      names.target,
      undefined,
      'names no target',
      `give at least one, e.g. ${DEFAULT_TARGET}`,
    );
  }
  const seen = new Set<string>();
  for (const target of config.target) {
    if (target.name === SELF_SOURCE || seen.has(target.name)) {
      throw new ConfigError(
        names.target,
        `${target.name}=${target.url.href}`,
        target.name === SELF_SOURCE
          ? `uses the reserved name ${SELF_SOURCE}`
          : `repeats the name ${target.name}`,
        'give each target its own name, e.g. --target app=http://127.0.0.1:8000/metrics',
      );
    }
    seen.add(target.name);
  }
}

export function configInput(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  version: string,
): LoadConfigInput<typeof metricsSidecarOptions> {
  return {
    program: 'metrics-sidecar',
    version,
    description:
      "Scrapes an app's /metrics and serves it, with its own metrics, as a valid, never-stale exposition.",
    envPrefix: 'METRICS_SIDECAR',
    options: metricsSidecarOptions,
    argv,
    env,
    validate: validateConfig,
    helpFooter:
      'Durations take ms, s or m (15s); sizes B, KiB, MiB or GiB (16MiB). Every option is also an env var\n' +
      '(METRICS_SIDECAR_INTERVAL) and a field of the --config file (interval: 15s).',
  };
}
