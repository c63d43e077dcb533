import { OpenMetricsParser } from './openmetrics-parser.js';
import type { ExpositionFormat, MetricFamily } from './snapshot.js';
import { TextParser } from './text-parser.js';

export { ExpositionError, type ExpositionErrorKind } from './exposition-error.js';

export interface ExpositionParserOptions {
  /** More samples than this fail the body with kind `sample_limit`. */
  readonly sampleLimit: number;
  /** About how many samples to expect (the previous scrape's count): sizes the series table once. */
  readonly expectedSamples?: number;
}

export interface ParsedExposition {
  readonly format: ExpositionFormat;
  readonly families: readonly MetricFamily[];
  readonly sampleCount: number;
}

/**
 * A streaming parser of one exposition format: feed it decoded text as it arrives with `push`, then call
 * `end`. It keeps families with their TYPE, HELP and UNIT, every sample (and exemplars where OpenMetrics
 * allows them), and throws ExpositionError, naming the line, for anything the format's spec rejects.
 */
export interface ExpositionParser {
  push(chunk: string): void;
  end(): ParsedExposition;
  /** Starts a new body (after `end`, or after a body that failed), reusing this parser's tables. */
  reset(options: ExpositionParserOptions): void;
}

/** The parser for `format`: text-parser.ts for text 0.0.4, openmetrics-parser.ts for OpenMetrics 1.0. */
export function createExpositionParser(
  format: ExpositionFormat,
  options: ExpositionParserOptions,
): ExpositionParser {
  return format === 'openmetrics' ? new OpenMetricsParser(options) : new TextParser(options);
}

/** Parses a whole body at once. */
export function parseExposition(
  text: string,
  format: ExpositionFormat,
  options: ExpositionParserOptions = { sampleLimit: Number.MAX_SAFE_INTEGER },
): ParsedExposition {
  const parser = createExpositionParser(format, options);
  parser.push(text);
  return parser.end();
}
