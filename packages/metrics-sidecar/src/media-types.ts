import type { ExpositionFormat } from './scrape/snapshot.js';

/** The versioned Content-Type the sidecar answers each format with. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
  text: 'text/plain; version=0.0.4; charset=utf-8',
};

/** What the sidecar sends when it scrapes: OpenMetrics 1.0 first, then text 0.0.4, then anything. */
export const SCRAPE_ACCEPT =
  'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
