import type { Logger } from '@agent-sidecars/shared';
import type { Registry } from 'prom-client';
import { SidecarEvents } from './events.js';
import { ExpositionCache } from './expose/exposition-cache.js';
import { type MergeSource, mergeSources } from './expose/exposition-merge.js';
import { createExpositionParser, type ExpositionParser } from './scrape/exposition-parser.js';
import { ScrapeClient, type ScrapeResult } from './scrape/scrape-client.js';
import { ScrapeLoop } from './scrape/scrape-loop.js';
import type { MetricFamily, Snapshot } from './scrape/snapshot.js';
import { SidecarMetrics } from './sidecar-metrics.js';

export interface Target {
  readonly name: string;
  readonly url: URL;
}

export interface MetricsSidecarOptions {
  readonly targets: readonly Target[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly staleAfterMs: number;
  readonly bodyLimit: number;
  readonly sampleLimit: number;
  /** The sidecar's own registry (Node defaults under metrics_sidecar_); its series are served first. */
  readonly registry: Registry;
  readonly logger: Logger;
  readonly userAgent: string;
  readonly gzipLevel?: number;
  readonly now?: () => number;
}

/** The name under which the sidecar's own series take part in the merge. */
export const SELF_SOURCE = 'metrics-sidecar';

interface TargetState {
  readonly target: Target;
  readonly client: ScrapeClient;
  readonly loop: ScrapeLoop;
  snapshot: Snapshot | undefined;
  expiry: NodeJS.Timeout | undefined;
}

/**
 * One scrape loop per target, the last good snapshot of each, and the served exposition built from the
 * sidecar's own series plus every target whose last good scrape is at most `staleAfterMs` old. A target
 * past that is left out, so Prometheus marks its series stale rather than ingesting frozen values.
 */
export class MetricsSidecar {
  readonly cache: ExpositionCache;
  readonly #options: MetricsSidecarOptions;
  readonly #events: SidecarEvents;
  readonly #states: TargetState[];
  readonly #now: () => number;
  /** The parser of the sidecar's own series, kept for the same reason as a scrape client's. */
  readonly #ownParser: ExpositionParser = createExpositionParser('text', {
    sampleLimit: Number.MAX_SAFE_INTEGER,
  });

  constructor(options: MetricsSidecarOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const metrics = new SidecarMetrics(
      options.registry,
      options.targets.map((target) => target.name),
      this.#now,
    );
    this.#events = new SidecarEvents(options.logger, metrics);
    this.cache = new ExpositionCache({
      build: () => this.#build(),
      ...(options.gzipLevel === undefined ? {} : { gzipLevel: options.gzipLevel }),
    });
    this.#states = options.targets.map((target) => {
      const client = new ScrapeClient({
        target: target.name,
        url: target.url,
        timeoutMs: options.timeoutMs,
        bodyLimit: options.bodyLimit,
        sampleLimit: options.sampleLimit,
        userAgent: options.userAgent,
        now: this.#now,
      });
      const state: TargetState = {
        target,
        client,
        snapshot: undefined,
        expiry: undefined,
        loop: new ScrapeLoop({
          intervalMs: options.intervalMs,
          now: this.#now,
          scrapeOnce: async (signal) => {
            const started = performance.now();
            const result = await client.scrape(signal);
            if (signal.aborted) return;
            this.#record(state, result, performance.now() - started);
          },
        }),
      };
      return state;
    });
  }

  start(): void {
    for (const state of this.#states) state.loop.start();
  }

  /** Stops scraping (aborting scrapes in flight) and closes target connections; the last exposition stays servable. */
  async stop(): Promise<void> {
    await Promise.all(this.#states.map((state) => state.loop.stop()));
    for (const state of this.#states) {
      clearTimeout(state.expiry);
      state.client.close();
    }
  }

  #record(state: TargetState, result: ScrapeResult, durationMs: number): void {
    const name = state.target.name;
    if (result.ok) {
      this.#events.scrapeSucceeded(name, result.snapshot, durationMs);
      state.snapshot = result.snapshot;
      clearTimeout(state.expiry);
      // Drop the block on time even if no later scrape finishes (a hung target only times out).
      state.expiry = setTimeout(() => this.#expire(state), this.#options.staleAfterMs + 1);
      state.expiry.unref();
    } else {
      this.#events.scrapeFailed(name, state.target.url.href, result, durationMs);
    }
    this.cache.invalidate();
  }

  #expire(state: TargetState): void {
    if (state.snapshot === undefined) return;
    this.#events.targetStale(state.target.name, this.#options.staleAfterMs);
    state.snapshot = undefined;
    this.cache.invalidate();
  }

  #fresh(state: TargetState): Snapshot | undefined {
    const snapshot = state.snapshot;
    if (snapshot === undefined) return undefined;
    return this.#now() - snapshot.scrapedAt <= this.#options.staleAfterMs ? snapshot : undefined;
  }

  async #build(): Promise<readonly MetricFamily[]> {
    const text = await this.#options.registry.metrics();
    const parser = this.#ownParser;
    parser.reset({ sampleLimit: Number.MAX_SAFE_INTEGER });
    parser.push(text);
    const own = parser.end();
    const sources: MergeSource[] = [{ name: SELF_SOURCE, families: own.families, format: 'text' }];
    for (const state of this.#states) {
      const snapshot = this.#fresh(state);
      if (snapshot !== undefined)
        sources.push({ name: state.target.name, families: snapshot.families, format: snapshot.format });
    }
    const merged = mergeSources(sources);
    if (merged.conflicts.length > 0) this.#events.conflicts(merged.conflicts);
    return merged.families;
  }
}
