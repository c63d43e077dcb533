/** The two exposition formats the sidecar reads and serves. */
export type ExpositionFormat = 'openmetrics' | 'text';

/** OpenMetrics' family types; text 0.0.4's `untyped` is `unknown` here. */
export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  | 'unknown';

/** One line of an exposition, kept in a form both formats can print without parsing it again. */
export interface Sample {
  /** Full sample name, e.g. `http_requests_total`. */
  readonly name: string;
  /** Name and labels as printed, e.g. `http_requests_total{code="200"}` (label values stay escaped). */
  readonly series: string;
  /** The series' identity: name and labels sorted by label name, for duplicate detection. */
  readonly key: string;
  /** The value as text valid in both formats (`1.5`, `+Inf`, `NaN`). */
  readonly value: string;
  /** The target's own timestamp in milliseconds, if it gave one; the sidecar never adds one. */
  readonly timestampMs: number | undefined;
  /** An OpenMetrics exemplar, printed as ` # {trace_id="abc"} 1 1700000000.1`; dropped in text 0.0.4. */
  readonly exemplar: string | undefined;
  /** 1-based line in the scraped body, for messages about conflicts. */
  readonly line: number;
}

/** A metric family as OpenMetrics names it (a counter's name has no `_total`). */
export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  /** Unescaped HELP text. */
  readonly help: string | undefined;
  readonly unit: string | undefined;
  /**
   * A text 0.0.4 counter whose samples do not end in `_total` (or whose `_total`-less name is taken by
   * another family): valid in text 0.0.4 but not an OpenMetrics counter, so it is served there as
   * `unknown` under its own name instead of being renamed.
   */
  readonly legacyCounter: boolean;
  readonly samples: readonly Sample[];
}

/** The result of one good scrape of one target, immutable once made. */
export interface Snapshot {
  readonly target: string;
  readonly format: ExpositionFormat;
  readonly families: readonly MetricFamily[];
  readonly sampleCount: number;
  /** When the scrape finished (ms since the epoch). */
  readonly scrapedAt: number;
}
