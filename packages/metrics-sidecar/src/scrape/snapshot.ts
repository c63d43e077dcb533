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

/**
 * One sample, kept compact because a target may expose hundreds of thousands: its series and value as
 * one string, printable as is in both formats (usually the scraped line itself, so nothing is copied).
 */
export interface Sample {
  /** Full sample name, e.g. `http_requests_total`. */
  readonly name: string;
  /** `<series> <value>`, e.g. `http_requests_total{code="200"} 1027` (label values stay escaped). */
  readonly text: string;
  /** Length of the series part of `text`. */
  readonly seriesLength: number;
  /** The target's own timestamp in milliseconds, if it gave one; the sidecar never adds one. */
  readonly timestampMs: number | undefined;
  /** An OpenMetrics exemplar, printed as ` # {trace_id="abc"} 1 1700000000.1`; dropped in text 0.0.4. */
  readonly exemplar: string | undefined;
  /** 1-based line in the scraped body, for messages about conflicts. */
  readonly line: number;
}

/** Name and labels as printed, e.g. `http_requests_total{code="200"}`. */
export function seriesOf(sample: Sample): string {
  return sample.text.slice(0, sample.seriesLength);
}

/** The value as printed: valid in both formats (`1.5`, `+Inf`, `NaN`). */
export function valueText(sample: Sample): string {
  return sample.text.slice(sample.seriesLength + 1);
}

/**
 * A series' identity: its name and labels sorted by name (`a{x="1",y="2"}` for `a{y="2",x="1"}`), from
 * the canonical series text a Sample holds.
 */
export function seriesKey(series: string): string {
  const open = series.indexOf('{');
  if (open < 0) return series;
  const labels = labelPairs(series);
  let sorted = true;
  for (let k = 1; k < labels.length && sorted; k++)
    sorted = labelName(labels[k - 1]!) <= labelName(labels[k]!);
  if (sorted) return series;
  labels.sort((a, b) => (labelName(a) < labelName(b) ? -1 : 1));
  return `${series.slice(0, open)}{${labels.join(',')}}`;
}

/** The `name="value"` pairs of a canonical series text, in their order (values still escaped). */
export function labelPairs(series: string): string[] {
  const open = series.indexOf('{');
  const labels: string[] = [];
  if (open < 0) return labels;
  let i = open + 1;
  while (i < series.length && series.charCodeAt(i) !== 125 /* } */) {
    const start = i;
    i = series.indexOf('"', i) + 1;
    // Skip the escaped value up to its closing quote.
    while (series.charCodeAt(i) !== 34) i += series.charCodeAt(i) === 92 ? 2 : 1;
    labels.push(series.slice(start, i + 1));
    i += 2;
    if (series.charCodeAt(i - 1) === 125) break;
  }
  return labels;
}

function labelName(pair: string): string {
  return pair.slice(0, pair.indexOf('='));
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
  /**
   * Why a family scraped as text 0.0.4, valid there, is not valid OpenMetrics (a non-integer bucket count,
   * a NaN counter, ...): it is then served in text only, never as invalid OpenMetrics.
   */
  readonly openMetricsProblem?: string | undefined;
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
