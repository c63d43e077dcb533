#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import {
  checkListenAddress,
  createLogger,
  createMetricsRegistry,
  exitOnListenFailure,
  HealthServer,
  Lifecycle,
  sidecarConfigOrExit,
} from '@agent-sidecars/shared';
import { configInput, settingsOf } from './config.js';
import { createMetricsRoute } from './expose/exposition-server.js';
import { MetricsSidecar } from './metrics-sidecar.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const config = settingsOf(
  await sidecarConfigOrExit(
    configInput(process.argv.slice(2), process.env, version, process.stdout.columns),
    process,
    // --dry-run: what starting would find wrong beyond the config itself, without binding the port.
    (loaded) => checkListenAddress(loaded.listen),
  ),
);
const logger = createLogger({ name: 'metrics-sidecar', level: config.logLevel });
const lifecycle = new Lifecycle({
  logger,
  shutdownTimeoutMs: config.shutdownTimeout,
  exit: (code) => process.exit(code),
});
lifecycle.installProcessHandlers(process);

// Its loop runs one scrape per interval (15 s by default) and answers a few requests: sampling the
// event-loop delay every 100 ms cost ~5 ms of CPU per 15 s idle, more than a fifth of a scrape's budget.
const registry = createMetricsRegistry('metrics_sidecar_', { eventLoopMonitoringPrecisionMs: 1000 });
const sidecar = new MetricsSidecar({
  targets: config.target,
  intervalMs: config.interval,
  timeoutMs: config.timeout,
  staleAfterMs: config.staleAfterMs,
  bodyLimit: config.targetBodyLimit,
  sampleLimit: config.targetSampleLimit,
  registry,
  logger,
  userAgent: `metrics-sidecar/${version}`,
});
const server = new HealthServer({
  lifecycle,
  registry,
  logger,
  listen: config.listen,
  routes: { '/metrics': createMetricsRoute(sidecar.cache) },
});

lifecycle.addShutdownStep('stop scraping', () => sidecar.stop());
lifecycle.addShutdownStep('close the listener', () => server.close());

try {
  await server.start();
} catch (error) {
  exitOnListenFailure('metrics-sidecar', error, config.listen, logger, process);
}
// Ready before any scrape: the app starts after its sidecars, so waiting for it would deadlock the Pod.
lifecycle.markReady();
logger.info(
  {
    targets: config.target.map((target) => ({ name: target.name, url: target.url.href })),
    intervalMs: config.interval,
    staleAfterMs: config.staleAfterMs,
  },
  'Scraping.',
);
sidecar.start();
