import {
  byteSizeParser,
  ConfigError,
  type ConfigOf,
  configSchema,
  durationParser,
  enumParser,
  integerParser,
  LOG_LEVELS,
  type LoadConfigInput,
  type LogLevel,
  listOption,
  maskUrl,
  type OptionNames,
  option,
  optionalOption,
  type Parser,
  parseListenAddress,
  parseUrl,
  shapedParser,
  type ValidateContext,
} from '@agent-sidecars/shared';
import { SELF_SOURCE, type Target } from './metrics-sidecar.js';

const TARGET_NAME = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s;

/** `URL` (named after its host:port) or `name=URL`. */
export const parseTarget: Parser<Target> = shapedParser(
  (raw) => {
    const text = raw.trim();
    const named = TARGET_NAME.exec(text);
    const url = parseUrl(named ? named[2]! : text);
    return Object.freeze({ name: named ? named[1]! : url.host, url });
  },
  { type: 'string', pattern: '^\\s*([A-Za-z_][A-Za-z0-9_.-]*=)?[Hh][Tt][Tt][Pp][Ss]?://' },
  (target) =>
    target.name === target.url.host ? maskUrl(target.url) : `${target.name}=${maskUrl(target.url)}`,
);

/** --help sections, in order. */
export const METRICS_SIDECAR_GROUPS = {
  scrape: 'Scraping:',
  serve: 'Serving:',
  runtime: 'Runtime:',
} as const;

export const DEFAULT_TARGET = 'http://127.0.0.1:8000/metrics';

export const metricsSidecarOptions = {
  target: listOption(parseTarget, {
    group: 'scrape',
    description:
      'a URL to scrape, or name=URL; the name is the target label of the sidecar own metrics (default: host:port)',
    valueName: '<[name=]url>',
    default: [parseTarget(DEFAULT_TARGET)],
    defaultText: DEFAULT_TARGET,
  }),
  listen: option(parseListenAddress, {
    group: 'serve',
    description: 'where /metrics, /livez and /readyz are served',
    valueName: '<[host]:port>',
    default: { host: '0.0.0.0', port: 9090 },
    defaultText: ':9090',
  }),
  interval: option(durationParser({ min: 100, max: 60 * 60_000 }), {
    group: 'scrape',
    description: 'time between the starts of two scrapes of a target',
    valueName: '<duration>',
    default: 15_000,
    defaultText: '15s',
  }),
  timeout: option(durationParser({ min: 10, max: 10 * 60_000 }), {
    group: 'scrape',
    description: 'limit on one scrape, below --interval',
    valueName: '<duration>',
    default: 5_000,
    defaultText: '5s',
  }),
  staleAfter: optionalOption(durationParser({ min: 100, max: 24 * 60 * 60_000 }), {
    group: 'serve',
    description: "age of a target's last good scrape after which its series are no longer served",
    valueName: '<duration>',
    defaultText: '2 x --interval',
  }),
  bodyLimit: option(byteSizeParser({ min: 1024, max: 1024 ** 3 }), {
    group: 'scrape',
    description: 'limit on a decompressed scrape body',
    valueName: '<size>',
    default: 3 * 1024 * 1024,
    defaultText: '3MiB',
  }),
  sampleLimit: option(integerParser(1, 10_000_000), {
    group: 'scrape',
    description: 'limit on the samples of one scrape',
    valueName: '<count>',
    default: 12_000,
    defaultText: '12000',
  }),
  // The defaults keep peak RSS under 96 MiB (the 128Mi limit less 25 %) whatever the targets serve:
  // bench/metrics-sidecar/hostile.mjs, docs/benchmarks.md.
  totalBodyLimit: option(byteSizeParser({ min: 1024, max: 1024 ** 3 }), {
    group: 'scrape',
    description:
      "limit on all targets' bodies together: each target gets an equal share, at most --body-limit",
    valueName: '<size>',
    default: 3 * 1024 * 1024,
    defaultText: '3MiB',
  }),
  totalSampleLimit: option(integerParser(1, 100_000_000), {
    group: 'scrape',
    description:
      "limit on all targets' samples together: each target gets an equal share, at most --sample-limit",
    valueName: '<count>',
    default: 12_000,
    defaultText: '12000',
  }),
  shutdownTimeout: option(durationParser({ min: 100, max: 10 * 60_000 }), {
    group: 'runtime',
    description: 'limit on the shutdown after SIGTERM',
    valueName: '<duration>',
    default: 10_000,
    defaultText: '10s',
  }),
  logLevel: option<LogLevel>(enumParser(LOG_LEVELS), {
    group: 'runtime',
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
  /** Each target's body limit: --body-limit, or its share of --total-body-limit if that is less. */
  readonly targetBodyLimit: number;
  /** Each target's sample limit: --sample-limit, or its share of --total-sample-limit if that is less. */
  readonly targetSampleLimit: number;
}

export function settingsOf(config: MetricsSidecarConfig): Settings {
  const targets = Math.max(1, config.target.length);
  return Object.freeze({
    ...config,
    staleAfterMs: config.staleAfter ?? 2 * config.interval,
    targetBodyLimit: Math.min(config.bodyLimit, Math.floor(config.totalBodyLimit / targets)),
    targetSampleLimit: Math.min(config.sampleLimit, Math.floor(config.totalSampleLimit / targets)),
  });
}

export function validateConfig(
  config: MetricsSidecarConfig,
  names: OptionNames<typeof metricsSidecarOptions>,
  { written }: ValidateContext<typeof metricsSidecarOptions>,
): void {
  if (config.timeout >= config.interval) {
    throw new ConfigError(
      names.timeout,
      written.timeout,
      `is not below ${names.interval} (${written.interval}), so scrapes could overlap`,
      'use a timeout shorter than the interval, e.g. --interval 15s --timeout 5s',
    );
  }
  if (config.staleAfter !== undefined && config.staleAfter < config.interval) {
    throw new ConfigError(
      names.staleAfter,
      written.staleAfter,
      `is below ${names.interval} (${written.interval}), so series would vanish between good scrapes`,
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
  if (config.totalSampleLimit < config.target.length) {
    throw new ConfigError(
      names.totalSampleLimit,
      written.totalSampleLimit,
      `leaves less than one sample for each of the ${config.target.length} targets`,
      'give at least one sample per target, e.g. --total-sample-limit 12000',
    );
  }
  if (config.totalBodyLimit < 1024 * config.target.length) {
    throw new ConfigError(
      names.totalBodyLimit,
      written.totalBodyLimit,
      `leaves less than 1KiB of body for each of the ${config.target.length} targets`,
      'give at least 1KiB per target, e.g. --total-body-limit 3MiB',
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
  helpWidth?: number,
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
    groups: METRICS_SIDECAR_GROUPS,
    helpWidth,
    helpFooter: [
      'Exit codes: 0 clean shutdown; 1 a runtime failure (logged); 2 bad config, or an address that cannot be listened on.',
      '',
      'Example:',
      '  metrics-sidecar --target app=http://127.0.0.1:8000/metrics \\',
      '    --interval 15s --listen :9090',
      '  metrics-sidecar validate --config /etc/metrics-sidecar/config.yaml',
    ].join('\n'),
  };
}

/** The JSON Schema of the --config file, generated from the option table above (schemas/ holds a copy). */
export function metricsSidecarConfigSchema(): Record<string, unknown> {
  return configSchema(metricsSidecarOptions, {
    id: 'https://github.com/agent-sidecars/agent-sidecars/schemas/metrics-sidecar.config.schema.json',
    title: 'metrics-sidecar --config file',
  });
}
