import { Counter, Gauge, type Registry } from 'prom-client';
import { FAILURE_REASONS, type FailureReason } from './scrape/scrape-client.js';

/**
 * The sidecar's own series, all under `metrics_sidecar_` so they can never clash with `up`, `scrape_*`
 * (which Prometheus writes itself) or the app's names.
 */
export class SidecarMetrics {
  readonly #targetUp: Gauge<'target'>;
  readonly #duration: Gauge<'target'>;
  readonly #failures: Counter<'target' | 'reason'>;
  readonly #samples: Gauge<'target'>;
  readonly #conflicts: Counter;
  readonly #lastSuccess = new Map<string, number>();

  constructor(registry: Registry, targets: readonly string[], now: () => number = Date.now) {
    const lastSuccess = this.#lastSuccess;
    this.#targetUp = new Gauge({
      name: 'metrics_sidecar_target_up',
      help: 'Whether the last scrape of the target succeeded (1) or failed (0).',
      labelNames: ['target'],
      registers: [registry],
    });
    new Gauge({
      name: 'metrics_sidecar_last_success_age_seconds',
      help: "Seconds since the target's last good scrape; absent until the first one.",
      labelNames: ['target'],
      registers: [registry],
      collect() {
        const at = now();
        for (const [target, time] of lastSuccess) this.set({ target }, (at - time) / 1000);
      },
    });
    this.#duration = new Gauge({
      name: 'metrics_sidecar_scrape_duration_seconds',
      help: 'How long the last scrape of the target took, successful or not.',
      labelNames: ['target'],
      registers: [registry],
    });
    this.#failures = new Counter({
      name: 'metrics_sidecar_scrape_failures_total',
      help: 'Failed scrapes of the target by reason: timeout, connect, status, parse, body_limit, sample_limit.',
      labelNames: ['target', 'reason'],
      registers: [registry],
    });
    this.#samples = new Gauge({
      name: 'metrics_sidecar_samples_scraped',
      help: "Samples in the target's last good scrape.",
      labelNames: ['target'],
      registers: [registry],
    });
    this.#conflicts = new Counter({
      name: 'metrics_sidecar_conflicts_total',
      help: 'Distinct merge conflicts seen: a family two sources expose with different types, or a series exposed twice.',
      registers: [registry],
    });
    for (const target of targets) {
      this.#targetUp.set({ target }, 0);
      // Zero every reason so rate() and increase() work from the first failure on.
      for (const reason of FAILURE_REASONS) this.#failures.inc({ target, reason }, 0);
    }
  }

  scraped(target: string, durationMs: number, sampleCount: number, at: number): void {
    this.#targetUp.set({ target }, 1);
    this.#duration.set({ target }, durationMs / 1000);
    this.#samples.set({ target }, sampleCount);
    this.#lastSuccess.set(target, at);
  }

  failed(target: string, durationMs: number, reason: FailureReason): void {
    this.#targetUp.set({ target }, 0);
    this.#duration.set({ target }, durationMs / 1000);
    this.#failures.inc({ target, reason });
  }

  conflict(): void {
    this.#conflicts.inc();
  }
}
