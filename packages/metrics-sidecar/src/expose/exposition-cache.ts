import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ExpositionFormat, MetricFamily } from '../scrape/snapshot.js';
import { renderOpenMetrics, renderText } from './renderer.js';

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
  readonly #pending = new Map<string, Promise<Buffer>>();
  readonly #ready = new Map<string, Buffer>();

  constructor(options: ExpositionCacheOptions) {
    this.#options = options;
  }

  /** The state changed (a scrape finished, a target went stale): the next request renders anew. */
  invalidate(): void {
    this.#generation++;
    this.#families = undefined;
    this.#pending.clear();
    this.#ready.clear();
  }

  /** The body if it is already rendered for the current state. */
  ready(format: ExpositionFormat, gzipped: boolean): Buffer | undefined {
    return this.#ready.get(cacheKey(format, gzipped));
  }

  body(format: ExpositionFormat, gzipped: boolean): Promise<Buffer> {
    const key = cacheKey(format, gzipped);
    const ready = this.#ready.get(key);
    if (ready !== undefined) return Promise.resolve(ready);
    const pending = this.#pending.get(key);
    if (pending !== undefined) return pending;
    const generation = this.#generation;
    const promise = (
      gzipped
        ? this.body(format, false).then((plain) => gzipAsync(plain, { level: this.#options.gzipLevel ?? 1 }))
        : this.#currentFamilies().then((families) =>
            Buffer.from(format === 'openmetrics' ? renderOpenMetrics(families) : renderText(families)),
          )
    ).then(
      (buffer) => {
        if (this.#generation === generation) {
          this.#ready.set(key, buffer);
          this.#pending.delete(key);
        }
        return buffer;
      },
      (error: unknown) => {
        if (this.#generation === generation) this.#pending.delete(key);
        throw error;
      },
    );
    this.#pending.set(key, promise);
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

function cacheKey(format: ExpositionFormat, gzipped: boolean): string {
  return gzipped ? `${format}+gzip` : format;
}
