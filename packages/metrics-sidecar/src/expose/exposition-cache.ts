import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ExpositionFormat, MetricFamily } from '../scrape/snapshot.js';
import { renderOpenMetricsBody, renderTextBody } from './renderer.js';

const gzipAsync = promisify(gzip);

export interface ExpositionCacheOptions {
  /** Builds the merged families of the current state; called at most once per generation. */
  readonly build: () => Promise<readonly MetricFamily[]>;
  /** zlib level for the gzipped bodies: 1 is several times cheaper than 6 for nearly the same size. */
  readonly gzipLevel?: number;
}

/**
 * The served bodies, rendered once per state and format (and gzipped once), lazily on the first request
 * for each, and kept until the state changes. Requests never render: under load every answer is a
 * Buffer already in memory.
 */
export class ExpositionCache {
  readonly #options: ExpositionCacheOptions;
  #generation = 0;
  #families: Promise<readonly MetricFamily[]> | undefined;
  // Indexed by variantIndex: four slots are cheaper to read per request than a keyed map.
  readonly #pending: (Promise<Buffer> | undefined)[] = [undefined, undefined, undefined, undefined];
  readonly #ready: (Buffer | undefined)[] = [undefined, undefined, undefined, undefined];

  constructor(options: ExpositionCacheOptions) {
    this.#options = options;
  }

  /** The state changed (a scrape finished, a target went stale): the next request renders anew. */
  invalidate(): void {
    this.#generation++;
    this.#families = undefined;
    this.#pending.fill(undefined);
    this.#ready.fill(undefined);
  }

  /** The body if it is already rendered for the current state. */
  ready(format: ExpositionFormat, gzipped: boolean): Buffer | undefined {
    return this.#ready[variantIndex(format, gzipped)];
  }

  body(format: ExpositionFormat, gzipped: boolean): Promise<Buffer> {
    const key = variantIndex(format, gzipped);
    const ready = this.#ready[key];
    if (ready !== undefined) return Promise.resolve(ready);
    const pending = this.#pending[key];
    if (pending !== undefined) return pending;
    const generation = this.#generation;
    const promise = (
      gzipped
        ? this.body(format, false).then((plain) => gzipAsync(plain, { level: this.#options.gzipLevel ?? 1 }))
        : this.#currentFamilies().then((families) =>
            format === 'openmetrics' ? renderOpenMetricsBody(families) : renderTextBody(families),
          )
    ).then(
      (buffer) => {
        if (this.#generation === generation) {
          this.#ready[key] = buffer;
          this.#pending[key] = undefined;
        }
        return buffer;
      },
      (error: unknown) => {
        if (this.#generation === generation) this.#pending[key] = undefined;
        throw error;
      },
    );
    this.#pending[key] = promise;
    return promise;
  }

  #currentFamilies(): Promise<readonly MetricFamily[]> {
    if (this.#families === undefined) {
      const families = this.#options.build();
      this.#families = families;
      families.catch(() => {
        if (this.#families === families) this.#families = undefined;
      });
    }
    return this.#families;
  }
}

/** 0 to 3: one slot per format and encoding. */
export function variantIndex(format: ExpositionFormat, gzipped: boolean): number {
  return (format === 'openmetrics' ? 2 : 0) + (gzipped ? 1 : 0);
}
