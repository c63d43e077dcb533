#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import {
  createLogger,
  createMetricsRegistry,
  exitOnConfigError,
  exitOnListenFailure,
  HealthServer,
  Lifecycle,
  sidecarConfigOrExit,
} from '@agent-sidecars/shared';
import { READ_BUFFER_BYTES, readBufferBytesFor } from './buffer-sizing.js';
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
import { createDelivery } from './delivery/index.js';
import { checkBufferFitsHeap } from './heap-fit.js';
import { Pipeline } from './pipeline.js';
import { type PodLabels, readPodLabels } from './pod-labels.js';
import { RecordBuilder } from './record-builder.js';
import { createSinks } from './sink/sink-factory.js';

const CHECKPOINT_INTERVAL_MS = 1000;
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
    validate: (loaded, names, context) => {
      validateConfig(loaded, names, context);
      // The heap limit is the process's (NODE_OPTIONS, the container's memory), not the config's.
      checkBufferFitsHeap(
        loaded.bufferMaxBytes,
        getHeapStatistics().heap_size_limit,
        names.bufferMaxBytes,
        context.written.bufferMaxBytes,
      );
    },
    groups: LOG_SIDECAR_GROUPS,
    helpWidth: process.stdout.columns,
    helpFooter: LOG_SIDECAR_HELP_FOOTER,
  },
  process,
  (loaded) => checkConfigFiles(loaded, process.env),
);

const logger = createLogger({ name: 'log-sidecar', level: config.logLevel });
const registry = createMetricsRegistry('log_sidecar_');
const lifecycle = new Lifecycle({
  logger,
  shutdownTimeoutMs: config.shutdownTimeout,
  exit: (code) => process.exit(code),
});
lifecycle.installProcessHandlers(process);

const sinks = await createSinks(config, {
  stdout: process.stdout,
  // process.stdout hands each chunk to the OS before its callback and keeps no reference after it.
  reuseStdoutBuffers: true,
  logger,
  env: process.env,
}).catch((error: unknown) => exitOnConfigError('log-sidecar', error, process));
// Labels land on every record: say which were taken from where (an unrelated CONTAINER_NAME in a shell
// would otherwise be a silent surprise).
logger.info({ labels: labelSourcesOf(config, process.env) }, 'Labels added to every record.');
let podLabels: PodLabels = { labels: {}, missing: [] };
try {
  podLabels = readPodLabels(config, { podLabelsFile: '--pod-labels-file' });
} catch (error) {
  exitOnConfigError('log-sidecar', error, process);
}
if (config.podLabels.length > 0)
  logger.info({ labels: podLabels.labels, file: config.podLabelsFile }, 'Pod labels added to every record.');
if (podLabels.missing.length > 0) {
  logger.warn(
    { labels: podLabels.missing, file: config.podLabelsFile },
    'Pod labels not on the Pod; records go without them.',
  );
}
// A small buffer makes reads small too: a read's records come on top of what the bound holds.
const readBufferBytes = readBufferBytesFor(config.bufferMaxBytes);
if (readBufferBytes < READ_BUFFER_BYTES) {
  logger.info({ readBufferBytes }, 'Reads of a thirty-second of --buffer-max-bytes.');
}
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
if (loaded.kind === 'loaded') {
  logger.info({ path: store.path, files: loaded.files, version: loaded.version }, 'Checkpoint loaded.');
} else if (loaded.kind === 'unusable') {
  logger.warn(
    { path: store.path, reason: loaded.reason },
    'Checkpoint unusable; reading every file from its start.',
  );
}

const pipeline = new Pipeline({
  delivery,
  store,
  // --label and the Downward API env win over a Pod label of the same name.
  builder: new RecordBuilder(
    config.format,
    { ...podLabels.labels, ...labelsOf(config, process.env) },
    { continuationField: config.multiline.kind === 'none' ? undefined : config.multilineField },
  ),
  registry,
  logger,
  discovery: {
    patterns: config.path,
    excludes: config.exclude,
    intervalMs: config.scanInterval,
    cwd: process.cwd(),
    followRotated: config.followRotated,
  },
  maxLineBytes: config.maxLineBytes,
  multiline: config.multiline,
  multilineTimeoutMs: config.multilineTimeout,
  readBufferBytes,
  readIntervalMs: config.readInterval,
  maxPollIntervalMs: config.maxPollInterval,
  maxOpenFiles: config.maxOpenFiles,
  rotateWaitMs: ROTATE_WAIT_MS,
  checkpointIntervalMs: CHECKPOINT_INTERVAL_MS,
  checkpointGraceMs: config.checkpointGrace,
  // Kept back before the lifecycle's hard deadline to write the checkpoint and the report.
  deadlineMarginMs: Math.min(1000, Math.max(200, config.shutdownTimeout / 10)),
});

const health = new HealthServer({ lifecycle, registry, logger, listen: config.listen });
lifecycle.addReadinessCheck('discovery', () => pipeline.running);
pipeline.addShutdownSteps(lifecycle);
lifecycle.addShutdownStep('close', async () => {
  await pipeline.close();
  await health.close();
});

try {
  await health.start();
} catch (error) {
  exitOnListenFailure('log-sidecar', error, config.listen, logger, process);
}
try {
  await pipeline.start();
  lifecycle.markReady();
} catch (error) {
  logger.fatal({ err: error }, 'Cannot start.');
  process.exit(1);
}
