export {
  EXIT_CONFIG_ERROR,
  exitOnConfigError,
  loadConfigOrExit,
  type ProgramIo,
  sidecarConfigOrExit,
} from './config/command-line.js';
export { ConfigError, InvalidValue } from './config/config-error.js';
export {
  type ConfigMode,
  type LoadConfigInput,
  type LoadConfigResult,
  loadConfig,
  type OptionNames,
  splitList,
  type ValidateContext,
  type ValueSource,
  type WrittenValues,
  wrap,
} from './config/config-loader.js';
export { configSchema, optionSchema, shapeSchema } from './config/config-schema.js';
export { renderEffectiveConfig } from './config/effective-config.js';
export { substituteEnv, substituteEnvDeep } from './config/env-substitution.js';
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
  type Bounds,
  byteSizeParser,
  durationParser,
  enumParser,
  formatByteSize,
  formatDuration,
  integerParser,
  type ListenAddress,
  maskUrl,
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
  shapedParser,
  type ValueShape,
} from './config/parsers.js';
export { type BackoffPolicy, fullJitterBackoff } from './delivery/backoff.js';
export { type AttemptResult, type RetryOptions, type RetryOutcome, retryUntil } from './delivery/retry.js';
export { parseRetryAfter } from './delivery/retry-after.js';
export { sleep } from './delivery/sleep.js';
export { HealthServer, type HealthServerOptions, type RouteHandler } from './health/health-server.js';
export { checkListenAddress, exitOnListenFailure, listenFailure } from './health/listen-error.js';
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
  StepFailure,
} from './lifecycle/lifecycle.js';
export {
  createLogger,
  LOG_LEVELS,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from './logging/logger.js';
export { createMetricsRegistry, type MetricsRegistryOptions } from './metrics/metrics-registry.js';
export { freePort, portIsFree, preferredOrFreePort } from './net/free-port.js';
export { type NotYet, type WaitForOptions, waitFor } from './polling/wait-for.js';
