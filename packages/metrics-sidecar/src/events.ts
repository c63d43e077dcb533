import type { Logger } from '@agent-sidecars/shared';
import type { MergeConflict } from './expose/exposition-merge.js';
import type { FailureReason } from './scrape/scrape-client.js';
import type { Snapshot } from './scrape/snapshot.js';
import type { SidecarMetrics } from './sidecar-metrics.js';

const MAX_SERIES_CONFLICT_LOGS = 5;

/**
 * Every observable event of the sidecar, one method each, writing its log line and its metrics together
 * so neither can be forgotten; "said once while it persists" is remembered here too.
 */
export class SidecarEvents {
  readonly #log: Logger;
  readonly #metrics: SidecarMetrics;
  readonly #seenConflicts = new Set<string>();
  /** Per target, the reason of its last failed scrape, until a scrape succeeds. */
  readonly #failing = new Map<string, FailureReason>();
  readonly #served = new Set<string>();
  /** Target and family of each text-only family already reported. */
  readonly #textOnly = new Set<string>();

  constructor(logger: Logger, metrics: SidecarMetrics) {
    this.#log = logger;
    this.#metrics = metrics;
  }

  /** A good scrape: logged when the target is served for the first time or again after failures. */
  scrapeSucceeded(target: string, snapshot: Snapshot, durationMs: number): void {
    this.#metrics.scraped(target, durationMs, snapshot.sampleCount, snapshot.scrapedAt);
    if (this.#failing.delete(target) || !this.#served.has(target)) {
      this.#log.info(
        { target, samples: snapshot.sampleCount, format: snapshot.format },
        'Scrape succeeded; serving the target.',
      );
    }
    this.#served.add(target);
    for (const family of snapshot.families) {
      if (family.openMetricsProblem === undefined) continue;
      const id = `${target}\n${family.name}`;
      if (this.#textOnly.has(id)) continue;
      this.#textOnly.add(id);
      this.#log.warn(
        { target, family: family.name, problem: family.openMetricsProblem },
        'Family is valid text 0.0.4 but not valid OpenMetrics; serving it in text only.',
      );
    }
  }

  /** A failed scrape: a warning when the reason changes, debug while it repeats; always counted. */
  scrapeFailed(
    target: string,
    url: string,
    failure: { readonly reason: FailureReason; readonly message: string; readonly line?: number },
    durationMs: number,
  ): void {
    this.#metrics.failed(target, durationMs, failure.reason);
    const fields = { target, url, reason: failure.reason, line: failure.line, error: failure.message };
    if (this.#failing.get(target) !== failure.reason) {
      this.#log.warn(fields, 'Scrape failed; the last good scrape is served until stale.');
    } else {
      this.#log.debug(fields, 'Scrape failed again.');
    }
    this.#failing.set(target, failure.reason);
  }

  /** A target's last good scrape went stale: its block is left out (target_up already says 0 or 1). */
  targetStale(target: string, staleAfterMs: number): void {
    this.#served.delete(target);
    this.#log.warn(
      { target, staleAfterMs },
      "The target's last good scrape is stale; its series are no longer served.",
    );
  }

  /** Merge conflicts of one render: each distinct one counted and logged once, however long it persists. */
  conflicts(conflicts: readonly MergeConflict[]): void {
    const log = this.#log;
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
