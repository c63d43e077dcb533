export {
  configInput,
  DEFAULT_TARGET,
  type MetricsSidecarConfig,
  metricsSidecarOptions,
  parseTarget,
  type Settings,
  settingsOf,
} from './config.js';
export { ContentNegotiator, negotiateFormat } from './expose/content-negotiation.js';
export { ExpositionCache } from './expose/exposition-cache.js';
export { mergeSources } from './expose/exposition-merge.js';
export { createMetricsRoute } from './expose/exposition-server.js';
export {
  renderOpenMetrics,
  renderOpenMetricsBody,
  renderText,
  renderTextBody,
} from './expose/renderer.js';
export { CONTENT_TYPES, SCRAPE_ACCEPT } from './media-types.js';
export { MetricsSidecar, type MetricsSidecarOptions, type Target } from './metrics-sidecar.js';
export {
  createExpositionParser,
  ExpositionError,
  type ExpositionParser,
  parseExposition,
} from './scrape/exposition-parser.js';
export { ScrapeClient, type ScrapeResult } from './scrape/scrape-client.js';
export { ScrapeLoop } from './scrape/scrape-loop.js';
export type { ExpositionFormat, MetricFamily, MetricType, Sample, Snapshot } from './scrape/snapshot.js';
