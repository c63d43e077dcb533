import type { Logger } from '@agent-sidecars/shared';
import type { Registry } from 'prom-client';
import { ExpositionCache } from './expose/exposition-cache.js';
import { type MergeConflict, type MergeSource, mergeSources } from './expose/exposition-merge.js';
import { parseExposition } from './scrape/exposition-parser.js';
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
const MAX_SERIES_CONFLICT_LOGS = 5;

interface TargetState {
  readonly target: Target;
  readonly client: ScrapeClient;
  readonly loop: ScrapeLoop;
  snapshot: Snapshot | undefined;
  expiry: NodeJS.Timeout | undefined;
  lastFailure: string | undefined;
}

/**
 * One scrape loop per target, the last good snapshot of each, and the served exposition built from the
 * sidecar's own series plus every target whose last good scrape is at most `staleAfterMs` old. A target
 * past that is left out, so Prometheus marks its series stale rather than ingesting frozen values.
 */
export class MetricsSidecar {
  readonly cache: ExpositionCache;
  readonly #options: MetricsSidecarOptions;
  readonly #metrics: SidecarMetrics;
  readonly #states: TargetState[];
  readonly #now: () => number;
  readonly #seenConflicts = new Set<string>();

  constructor(options: MetricsSidecarOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#metrics = new SidecarMetrics(
      options.registry,
      options.targets.map((target) => target.name),
      this.#now,
    );
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
        lastFailure: undefined,
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
    const log = this.#options.logger;
    const name = state.target.name;
    if (result.ok) {
      const snapshot = result.snapshot;
      this.#metrics.scraped(name, durationMs, snapshot.sampleCount, snapshot.scrapedAt);
      if (state.lastFailure !== undefined || state.snapshot === undefined) {
        log.info(
          { target: name, samples: snapshot.sampleCount, format: snapshot.format },
          'Scrape succeeded; serving the target.',
        );
      }
      state.snapshot = snapshot;
      state.lastFailure = undefined;
      clearTimeout(state.expiry);
      // Drop the block on time even if no later scrape finishes (a hung target only times out).
      state.expiry = setTimeout(() => this.#expire(state), this.#options.staleAfterMs + 1);
      state.expiry.unref();
    } else {
      this.#metrics.failed(name, durationMs, result.reason);
      const fields = { target: name, url: state.target.url.href, reason: result.reason, line: result.line };
      if (state.lastFailure !== result.reason) {
        log.warn(
          { ...fields, error: result.message },
          'Scrape failed; the last good scrape is served until stale.',
        );
      } else {
        log.debug({ ...fields, error: result.message }, 'Scrape failed again.');
      }
      state.lastFailure = result.reason;
    }
    this.cache.invalidate();
  }

  #expire(state: TargetState): void {
    if (state.snapshot === undefined) return;
    this.#options.logger.warn(
      { target: state.target.name, staleAfterMs: this.#options.staleAfterMs },
      "The target's last good scrape is stale; its series are no longer served.",
    );
    state.snapshot = undefined;
    this.cache.invalidate();
  }

  #fresh(state: TargetState): Snapshot | undefined {
    const snapshot = state.snapshot;
    if (snapshot === undefined) return undefined;
    return this.#now() - snapshot.scrapedAt <= this.#options.staleAfterMs ? snapshot : undefined;
  }

  async #build(): Promise<readonly MetricFamily[]> {
    const own = parseExposition(await this.#options.registry.metrics(), 'text');
    const sources: MergeSource[] = [{ name: SELF_SOURCE, families: own.families }];
    for (const state of this.#states) {
      const snapshot = this.#fresh(state);
      if (snapshot !== undefined) sources.push({ name: state.target.name, families: snapshot.families });
    }
    const merged = mergeSources(sources);
    if (merged.conflicts.length > 0) this.#report(merged.conflicts);
    return merged.families;
  }

  /** Counts and logs each distinct conflict once, however many renders it persists through. */
  #report(conflicts: readonly MergeConflict[]): void {
    const log = this.#options.logger;
    let seriesLogged = 0;
    let seriesUnlogged = 0;
    for (const conflict of conflicts) {
      const id =
        conflict.kind === 'type'
          ? `type\n${conflict.family}\n${conflict.dropped.source}\n${conflict.dropped.type}`
          : `series\n${conflict.series}\n${conflict.dropped.source}`;
      if (this.#seenConflicts.has(id)) continue;
      this.#seenConflicts.add(id);
      this.#metrics.conflict();
      if (conflict.kind === 'type') {
        log.warn(
          { family: conflict.family, kept: conflict.kept, dropped: conflict.dropped },
          'Two sources expose a family with different types; serving the first source copy only.',
        );
      } else if (seriesLogged < MAX_SERIES_CONFLICT_LOGS) {
        seriesLogged++;
        log.warn(
          { series: conflict.series, kept: conflict.kept, dropped: conflict.dropped },
          'Two sources expose the same series; serving the first source copy only.',
        );
      } else {
        seriesUnlogged++;
      }
    }
    if (seriesUnlogged > 0) {
      log.warn(
        { count: seriesUnlogged },
        'More duplicate series between sources; each is counted, not logged.',
      );
    }
  }
}
