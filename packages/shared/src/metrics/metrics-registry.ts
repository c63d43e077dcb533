import { collectDefaultMetrics, Registry } from 'prom-client';

const GAUGES_NAMED_LIKE_COUNTERS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface MetricsRegistryOptions {
  /**
   * How often the event-loop-delay monitor wakes the process to sample, in ms (default 100). Each
   * wake-up costs CPU even when idle; a stall shorter than this is seen only if a sample falls in it.
   */
  readonly eventLoopMonitoringPrecisionMs?: number;
}

/**
 * A component's own registry, never prom-client's global one (a known source of "already registered"
 * errors when modules are loaded twice), with Node's default metrics under the component's prefix so
 * they cannot clash with the app's series when merged.
 */
export function createMetricsRegistry(prefix: string, options: MetricsRegistryOptions = {}): Registry {
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*_$/.test(prefix)) {
    throw new Error(`metric prefix "${prefix}" must be a valid metric name ending in "_", e.g. log_sidecar_`);
  }
  const registry = new Registry();
  // The event-loop-delay monitor samples every 10 ms by default: 100 wake-ups a second that an idle sidecar
  // does not need; 100 ms still resolves the stalls worth alerting on.
  collectDefaultMetrics({
    register: registry,
    prefix,
    eventLoopMonitoringPrecision: options.eventLoopMonitoringPrecisionMs ?? 100,
  });
  // These three are gauges named like counters, which `promtool check metrics` flags; the per-type gauges
  // without the suffix (`nodejs_active_handles` and friends) carry the same information.
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(`${prefix}${name}`);
  return registry;
}
