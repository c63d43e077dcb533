#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import {
  createLogger,
  createMetricsRegistry,
  exitOnConfigError,
  exitOnListenFailure,
  HealthServer,
  Lifecycle,
  type ShutdownContext,
  StepFailure,
  sidecarConfigOrExit,
} from '@agent-sidecars/shared';
import { CheckpointStore } from './checkpoint/checkpoint-store.js';
import {
  checkpointDirOf,
  LOG_SIDECAR_GROUPS,
  LOG_SIDECAR_HELP_FOOTER,
  labelSourcesOf,
  labelsOf,
  logSidecarOptions,
  validateConfig,
} from './config.js';
import { checkConfigFiles } from './config-check.js';
import type { DrainReport } from './delivery/delivery.js';
import { createDelivery } from './delivery/index.js';
import { Pipeline } from './pipeline.js';
import { RecordBuilder } from './record-builder.js';
import { createSinks } from './sink/sink-factory.js';
import { FileDiscovery } from './source/file-discovery.js';
import { SourceMetrics } from './source-metrics.js';

const CHECKPOINT_INTERVAL_MS = 1000;
const READ_BUFFER_BYTES = 256 * 1024;
const ROTATE_WAIT_MS = 2000;

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const config = await sidecarConfigOrExit(
  {
    program: 'log-sidecar',
    version,
    description:
      "Reads an agent's log files on a shared volume and delivers every line, at least once, to stdout or HTTP sinks.",
    envPrefix: 'LOG_SIDECAR',
    options: logSidecarOptions,
    argv: process.argv.slice(2),
    env: process.env,
    validate: validateConfig,
    groups: LOG_SIDECAR_GROUPS,
    helpWidth: process.stdout.columns,
    helpFooter: LOG_SIDECAR_HELP_FOOTER,
  },
  process,
  checkConfigFiles,
);

const logger = createLogger({ name: 'log-sidecar', level: config.logLevel });
const registry = createMetricsRegistry('log_sidecar_');
const lifecycle = new Lifecycle({
  logger,
  shutdownTimeoutMs: config.shutdownTimeout,
  exit: (code) => process.exit(code),
});
lifecycle.installProcessHandlers(process);

const sinks = await createSinks(config, { stdout: process.stdout, logger, env: process.env }).catch(
  (error: unknown) => exitOnConfigError('log-sidecar', error, process),
);
// Labels land on every record: say which were taken from where (an unrelated CONTAINER_NAME in a shell
// would otherwise be a silent surprise).
logger.info({ labels: labelSourcesOf(config, process.env) }, 'Labels added to every record.');
const delivery = createDelivery({
  sinks,
  logger,
  registry,
  bufferMaxBytes: config.bufferMaxBytes,
  batchMaxRecords: config.batchMaxRecords,
  batchMaxBytes: config.batchMaxBytes,
  batchTimeoutMs: config.batchTimeout,
  maxInFlight: config.maxInFlight,
  onDeadline: config.onDeadline,
  stdout: process.stdout,
  retryMaxAttempts: config.sinkRetryLimit,
});

const store = new CheckpointStore(checkpointDirOf(config, process.cwd()));
const loaded = store.load();
if (loaded.kind === 'loaded') logger.info({ path: store.path, files: loaded.files }, 'Checkpoint loaded.');
else if (loaded.kind === 'unusable') {
  logger.warn(
    { path: store.path, reason: loaded.reason },
    'Checkpoint unusable; reading every file from its start.',
  );
}

let pipeline: Pipeline | undefined;
const metrics = new SourceMetrics(registry, () => pipeline?.files() ?? []);
pipeline = new Pipeline({
  delivery,
  store,
  builder: new RecordBuilder(config.format, labelsOf(config, process.env)),
  metrics,
  logger,
  maxLineBytes: config.maxLineBytes,
  multiline: config.multiline,
  multilineTimeoutMs: config.multilineTimeout,
  readBufferBytes: READ_BUFFER_BYTES,
  rotateWaitMs: ROTATE_WAIT_MS,
  checkpointGraceMs: config.checkpointGrace,
});
const source = pipeline;

const discovery = new FileDiscovery({
  patterns: config.path,
  excludes: config.exclude,
  intervalMs: config.scanInterval,
  logger,
  cwd: process.cwd(),
  onScan: source.reconcile,
  onError: (kind) => metrics.errors.inc({ kind }),
  followRotated: config.followRotated,
  rotatedMaxAgeMs: config.checkpointGrace,
});

const health = new HealthServer({ lifecycle, registry, logger, listen: config.listen });
lifecycle.addReadinessCheck('discovery', () => discovery.running);

const checkpointTimer = setInterval(() => source.writeCheckpoint(), CHECKPOINT_INTERVAL_MS);
const readTimer = setInterval(source.tick, config.readInterval);

/** Kept back before the lifecycle's hard deadline to write the checkpoint and the report. */
function softDeadline(context: ShutdownContext): number {
  const margin = Math.min(1000, Math.max(200, config.shutdownTimeout / 10));
  return context.deadline - margin;
}

let drainReport: DrainReport | undefined;
lifecycle.addShutdownStep('stop discovery', () => {
  clearInterval(readTimer);
  return discovery.stop();
});
lifecycle.addShutdownStep('read files to their end', async (context) => {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(0, softDeadline(context) - Date.now()));
  const onHardAbort = () => abort.abort();
  context.signal.addEventListener('abort', onHardAbort, { once: true });
  try {
    await source.readToEnd(abort.signal);
  } finally {
    clearTimeout(timer);
    context.signal.removeEventListener('abort', onHardAbort);
  }
});
lifecycle.addShutdownStep('deliver', async (context) => {
  drainReport = await delivery.drain(softDeadline(context));
});
lifecycle.addShutdownStep('write the final checkpoint', () => {
  clearInterval(checkpointTimer);
  if (!source.writeCheckpoint()) throw new Error('the final checkpoint could not be written');
});
lifecycle.addShutdownStep('report', () => {
  // The one deadline report: per sink and file, the records read but not settled and the bytes past the
  // settled offset (unread ones included). The delivery adds one line if it wrote records to stdout.
  const shortfall = source.shortfall(drainReport);
  if (shortfall.length === 0 && drainReport?.complete !== false) return;
  for (const file of shortfall) {
    logger.error(
      { sink: file.sink, path: file.path, records: file.records, bytes: file.bytes },
      'Not delivered before the shutdown deadline.',
    );
  }
  const files = new Set(shortfall.map((file) => file.path)).size;
  const sinkCount = new Set(shortfall.map((file) => file.sink)).size;
  const what =
    files === 0
      ? 'Records were'
      : `${files} ${files === 1 ? 'file was' : 'files were'} not fully delivered to ${sinkCount} ${sinkCount === 1 ? 'sink' : 'sinks'}`;
  throw new StepFailure(
    `${files === 0 ? `${what} not fully delivered` : what} before the shutdown deadline (see above); exit code 1. Raise --shutdown-timeout (below the Pod's terminationGracePeriodSeconds) or fix the sink.`,
  );
});
lifecycle.addShutdownStep('close', async () => {
  await source.close();
  await delivery.close();
  await health.close();
});

try {
  await health.start();
} catch (error) {
  exitOnListenFailure('log-sidecar', error, config.listen, logger, process);
}
try {
  await discovery.start();
  lifecycle.markReady();
} catch (error) {
  logger.fatal({ err: error }, 'Cannot start.');
  process.exit(1);
}
