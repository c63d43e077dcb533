import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A component's own registry, never prom-client's global one (a known source of "already registered"
 * errors when modules are loaded twice), with Node's default metrics under the component's prefix so
 * they cannot clash with the app's series when merged.
 */
export function createMetricsRegistry(prefix: string): Registry {
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*_$/.test(prefix)) {
    throw new Error(`metric prefix "${prefix}" must be a valid metric name ending in "_", e.g. log_sidecar_`);
  }
  const registry = new Registry();
  // The event-loop-delay monitor samples every 10 ms by default: 100 wake-ups a second that an idle sidecar
  // does not need; 100 ms still resolves the stalls worth alerting on.
  collectDefaultMetrics({ register: registry, prefix, eventLoopMonitoringPrecision: 100 });
  return registry;
}
