import type { ExpositionFormat } from '../scrape/snapshot.js';

export interface Negotiated {
  readonly format: ExpositionFormat;
  readonly gzip: boolean;
}

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly params: ReadonlyMap<string, string>;
  readonly q: number;
  readonly index: number;
}

/**
 * Picks the format for a scraper's `Accept`: the acceptable range with the highest q, earlier ranges
 * winning ties. `application/openmetrics-text` counts with version 1.0.0, 0.0.1 (the same grammar, as
 * Prometheus treats it) or none; `text/plain` with version 0.0.4 or none; wildcards mean text 0.0.4.
 * No or nothing acceptable: text 0.0.4, which every Prometheus reads (as Go's client does).
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || accept.trim() === '') return 'text';
  let best: { format: ExpositionFormat; q: number; index: number } | undefined;
  for (const range of parseRanges(accept)) {
    const format = formatFor(range);
    if (format === undefined || range.q <= 0) continue;
    if (best === undefined || range.q > best.q) best = { format, q: range.q, index: range.index };
  }
  return best?.format ?? 'text';
}

/** Whether `Accept-Encoding` allows gzip (`gzip` or `*` with q > 0, and gzip not refused by name). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined) return false;
  let gzip: number | undefined;
  let star: number | undefined;
  for (const part of acceptEncoding.split(',')) {
    const [coding = '', ...params] = part.split(';');
    const name = coding.trim().toLowerCase();
    const q = qualityOf(params);
    if (name === 'gzip' || name === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (name === '*') star = q;
  }
  if (gzip !== undefined) return gzip > 0;
  return star !== undefined && star > 0;
}

/** Remembers the answers for the few distinct header pairs a deployment's scrapers send. */
export class ContentNegotiator {
  readonly #cache = new Map<string, Map<string, Negotiated>>();
  readonly #maxEntries: number;

  constructor(maxEntries = 64) {
    this.#maxEntries = maxEntries;
  }

  negotiate(accept: string | undefined, acceptEncoding: string | undefined): Negotiated {
    // Nested maps: no key string to build per request.
    let byEncoding = this.#cache.get(accept ?? '');
    const cached = byEncoding?.get(acceptEncoding ?? '');
    if (cached !== undefined) return cached;
    const answer = Object.freeze({ format: negotiateFormat(accept), gzip: acceptsGzip(acceptEncoding) });
    if (this.#cache.size >= this.#maxEntries) this.#cache.clear();
    if (byEncoding === undefined || byEncoding.size >= this.#maxEntries) {
      byEncoding = new Map();
      this.#cache.set(accept ?? '', byEncoding);
    }
    byEncoding.set(acceptEncoding ?? '', answer);
    return answer;
  }
}

function formatFor(range: MediaRange): ExpositionFormat | undefined {
  const version = range.params.get('version');
  if (range.type === 'application' && range.subtype === 'openmetrics-text') {
    return version === undefined || version === '1.0.0' || version === '0.0.1' ? 'openmetrics' : undefined;
  }
  if (range.type === 'text' && range.subtype === 'plain') {
    return version === undefined || version === '0.0.4' ? 'text' : undefined;
  }
  if (range.type === '*' || (range.type === 'text' && range.subtype === '*')) return 'text';
  if (range.type === 'application' && range.subtype === '*') return 'openmetrics';
  return undefined;
}

function parseRanges(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  let index = 0;
  for (const part of accept.split(',')) {
    const [mediaType = '', ...rawParams] = part.split(';');
    const slash = mediaType.indexOf('/');
    if (slash < 0) continue;
    const params = new Map<string, string>();
    for (const param of rawParams) {
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      const key = param.slice(0, eq).trim().toLowerCase();
      const value = param
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      params.set(key, value);
    }
    ranges.push({
      type: mediaType.slice(0, slash).trim().toLowerCase(),
      subtype: mediaType
        .slice(slash + 1)
        .trim()
        .toLowerCase(),
      params,
      q: qualityOf(rawParams),
      index: index++,
    });
  }
  return ranges;
}

function qualityOf(params: readonly string[]): number {
  for (const param of params) {
    const match = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(param);
    if (match) {
      const q = Number(match[1]);
      return Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 1;
    }
  }
  return 1;
}
