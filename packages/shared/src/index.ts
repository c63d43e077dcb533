export {
  EXIT_CONFIG_ERROR,
  exitOnConfigError,
  loadConfigOrExit,
  type ProgramIo,
} from './config/command-line.js';
export { ConfigError, InvalidValue } from './config/config-error.js';
export {
  type LoadConfigInput,
  type LoadConfigResult,
  loadConfig,
  type OptionNames,
  splitList,
} from './config/config-loader.js';
export {
  type ConfigOf,
  envName,
  flagName,
  listOption,
  type OptionDef,
  type OptionDefs,
  option,
  optionalOption,
  requiredOption,
} from './config/option.js';
export {
  enumParser,
  integerParser,
  type ListenAddress,
  type Parser,
  parseBoolean,
  parseByteSize,
  parseDuration,
  parseLabel,
  parseListenAddress,
  parsePositiveInt,
  parseRegExp,
  parseString,
  parseUrl,
} from './config/parsers.js';
export { type BackoffPolicy, fullJitterBackoff } from './delivery/backoff.js';
export { type AttemptResult, type RetryOptions, type RetryOutcome, retryUntil } from './delivery/retry.js';
export { parseRetryAfter } from './delivery/retry-after.js';
export { sleep } from './delivery/sleep.js';
export { HealthServer, type HealthServerOptions, type RouteHandler } from './health/health-server.js';
export { describeTransportError } from './http/transport-error.js';
export {
  Lifecycle,
  type LifecycleOptions,
  type LifecycleState,
  type ReadinessCheck,
  type ReadinessReport,
  type ShutdownContext,
  type ShutdownStep,
  type SignalSource,
} from './lifecycle/lifecycle.js';
export {
  createLogger,
  LOG_LEVELS,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from './logging/logger.js';
export { createMetricsRegistry } from './metrics/metrics-registry.js';
