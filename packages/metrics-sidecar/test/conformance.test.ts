import { requireTool } from '@agent-sidecars/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderOpenMetrics, renderText } from '../src/expose/renderer.js';
import { parseExposition } from '../src/scrape/exposition-parser.js';
import type { ExpositionFormat } from '../src/scrape/snapshot.js';
import { PROMTOOL_PROBE, PYTHON_CLIENT_PROBE } from './harness.js';
import { promtoolParses, StrictOpenMetricsParser } from './reference-parsers.js';

/**
 * One case per rule the parser enforces or accepts, named for the rule and the clause of the
 * OpenMetrics 1.0 specification (or the text 0.0.4 format) it checks. OpenMetrics cases are also run
 * through client_python's strict parser, which must agree unless the case names a deliberate difference.
 */
interface Case {
  readonly rule: string;
  readonly clause: string;
  readonly format: ExpositionFormat;
  readonly body: string;
  readonly valid: boolean;
  /** Why client_python's parser answers otherwise, for the few deliberate differences (README). */
  readonly difference?: string;
  /** Text only: valid text 0.0.4 that is not valid OpenMetrics, so served in text only. */
  readonly textOnly?: boolean;
}

const h = (lines: string[]) => `# TYPE h histogram\n${lines.join('\n')}\n# EOF\n`;
const om = (lines: string[]) => `${lines.join('\n')}\n# EOF\n`;
const text = (lines: string[]) => `${lines.join('\n')}\n`;

const CASES: readonly Case[] = [
  // Histogram and GaugeHistogram (Metric Types > Histogram, GaugeHistogram).
  {
    rule: 'a histogram point with +Inf, sum and count is valid',
    clause: 'Histogram',
    format: 'openmetrics',
    body: h(['h_bucket{le="1.0"} 1', 'h_bucket{le="+Inf"} 2', 'h_count 2', 'h_sum 1.5']),
    valid: true,
  },
  {
    rule: 'a histogram point needs a +Inf bucket',
    clause: 'Histogram: MUST have one bucket with an +Inf threshold',
    format: 'openmetrics',
    body: h(['h_bucket{le="1.0"} 1']),
    valid: false,
  },
  {
    rule: 'buckets are in increasing le order',
    clause: 'Histogram: Buckets MUST be sorted in number increasing order of "le"',
    format: 'openmetrics',
    body: h(['h_bucket{le="2.0"} 1', 'h_bucket{le="1.0"} 1', 'h_bucket{le="+Inf"} 1']),
    valid: false,
  },
  {
    rule: 'bucket thresholds are unique',
    clause: 'Histogram: Bucket thresholds within a MetricPoint MUST be unique',
    format: 'openmetrics',
    body: h(['h_bucket{le="1.0"} 1', 'h_bucket{le="1"} 1', 'h_bucket{le="+Inf"} 1']),
    valid: false,
  },
  {
    rule: 'buckets are cumulative',
    clause: 'Histogram: Buckets MUST be cumulative',
    format: 'openmetrics',
    body: h(['h_bucket{le="1.0"} 3', 'h_bucket{le="+Inf"} 2']),
    valid: false,
  },
  {
    rule: '_count equals the +Inf bucket',
    clause: 'Histogram: the +Inf Bucket value MUST also appear with the suffix "_count"',
    format: 'openmetrics',
    body: h(['h_bucket{le="+Inf"} 2', 'h_count 3', 'h_sum 1']),
    valid: false,
  },
  {
    rule: '_sum comes with _count',
    clause: 'Histogram: if and only if a Sum Value is present, the +Inf value MUST appear as _count',
    format: 'openmetrics',
    body: h(['h_bucket{le="+Inf"} 2', 'h_sum 1']),
    valid: false,
  },
  {
    rule: '_count comes with _sum',
    clause: 'Histogram: if and only if a Sum Value is present, the +Inf value MUST appear as _count',
    format: 'openmetrics',
    body: h(['h_bucket{le="+Inf"} 2', 'h_count 2']),
    valid: false,
  },
  {
    rule: 'bucket counts are not negative',
    clause: 'Histogram: Sum, and buckets values are counters so MUST NOT be NaN or negative',
    format: 'openmetrics',
    body: h(['h_bucket{le="+Inf"} -1']),
    valid: false,
  },
  {
    rule: 'bucket counts are not NaN',
    clause: 'Histogram: Sum, and buckets values are counters so MUST NOT be NaN or negative',
    format: 'openmetrics',
    body: h(['h_bucket{le="+Inf"} NaN']),
    valid: false,
  },
  {
    rule: 'bucket counts are integers',
    clause: 'Histogram: Count and bucket values MUST be integers',
    format: 'openmetrics',
    body: h(['h_bucket{le="+Inf"} 1.5']),
    valid: false,
  },
  {
    rule: 'counts are integers',
    clause: 'Histogram: Count and bucket values MUST be integers',
    format: 'openmetrics',
    body: h(['h_bucket{le="+Inf"} 2', 'h_count 2.5', 'h_sum 1']),
    valid: false,
  },
  {
    rule: 'integer counts may be written as floats',
    clause: 'Numbers',
    format: 'openmetrics',
    body: h(['h_bucket{le="+Inf"} 2.0', 'h_count 2.0', 'h_sum 1']),
    valid: true,
  },
  {
    rule: 'the sum is not negative',
    clause: 'Histogram: Sum ... MUST NOT be NaN or negative',
    format: 'openmetrics',
    body: h(['h_bucket{le="+Inf"} 2', 'h_count 2', 'h_sum -1']),
    valid: false,
  },
  {
    rule: 'negative thresholds forbid a _sum',
    clause:
      'Histogram: Negative threshold buckets MAY be used, but then the MetricPoint MUST NOT contain a sum',
    format: 'openmetrics',
    body: h(['h_bucket{le="-1.0"} 1', 'h_bucket{le="+Inf"} 2', 'h_count 2', 'h_sum 1']),
    valid: false,
  },
  {
    rule: 'le is never NaN',
    clause: 'Histogram: Bucket thresholds MUST NOT equal NaN',
    format: 'openmetrics',
    body: h(['h_bucket{le="NaN"} 1', 'h_bucket{le="+Inf"} 1']),
    valid: false,
  },
  {
    rule: '+Inf is spelled +Inf',
    clause: 'Canonical Numbers: Exposers MUST produce output for positive infinity as +Inf',
    format: 'openmetrics',
    body: h(['h_bucket{le="+INF"} 1']),
    valid: false,
  },
  {
    rule: 'other le values need not be canonical',
    clause: 'Canonical Numbers: Parsers MUST NOT reject inputs ... not consistent with the canonical values',
    format: 'openmetrics',
    body: h(['h_bucket{le="1.1e-4"} 0', 'h_bucket{le="1"} 1', 'h_bucket{le="+Inf"} 1']),
    valid: true,
  },
  {
    rule: 'a histogram bucket has an le label',
    clause: 'Histogram: Every bucket MUST have a threshold',
    format: 'openmetrics',
    body: h(['h_bucket 1']),
    valid: false,
  },
  {
    rule: 'a gauge histogram point with _gcount and _gsum is valid',
    clause: 'GaugeHistogram',
    format: 'openmetrics',
    body: om(['# TYPE g gaugehistogram', 'g_bucket{le="+Inf"} 3', 'g_gcount 3', 'g_gsum 2']),
    valid: true,
  },
  {
    rule: '_gsum comes with _gcount',
    clause: 'GaugeHistogram: if and only if a Sum Value is present, +Inf MUST appear as _gcount',
    format: 'openmetrics',
    body: om(['# TYPE g gaugehistogram', 'g_bucket{le="+Inf"} 3', 'g_gsum 2']),
    valid: false,
  },
  {
    rule: 'a negative _gsum needs negative buckets',
    clause: 'GaugeHistogram: If negative threshold buckets are present, then sum MAY be negative',
    format: 'openmetrics',
    body: om([
      '# TYPE g gaugehistogram',
      'g_bucket{le="1.0"} 1',
      'g_bucket{le="+Inf"} 3',
      'g_gcount 3',
      'g_gsum -2',
    ]),
    valid: false,
  },
  {
    rule: 'a negative _gsum with negative buckets is valid',
    clause: 'GaugeHistogram: If negative threshold buckets are present, then sum MAY be negative',
    format: 'openmetrics',
    body: om([
      '# TYPE g gaugehistogram',
      'g_bucket{le="-1.0"} 1',
      'g_bucket{le="+Inf"} 3',
      'g_gcount 3',
      'g_gsum -2',
    ]),
    valid: true,
  },
  {
    rule: '_gsum is not NaN',
    clause: 'GaugeHistogram: Gsum MUST NOT be NaN',
    format: 'openmetrics',
    body: om(['# TYPE g gaugehistogram', 'g_bucket{le="+Inf"} 3', 'g_gcount 3', 'g_gsum NaN']),
    valid: false,
  },
  // Counter and Summary.
  {
    rule: 'a counter total is not NaN',
    clause: 'Counter: A Total is a non-NaN',
    format: 'openmetrics',
    body: om(['# TYPE c counter', 'c_total NaN']),
    valid: false,
  },
  {
    rule: 'a counter total is not negative',
    clause: 'Counter: MUST be monotonically non-decreasing over time, starting from 0',
    format: 'openmetrics',
    body: om(['# TYPE c counter', 'c_total -1']),
    valid: false,
  },
  {
    rule: 'a counter total may be +Inf',
    clause: 'Counter',
    format: 'openmetrics',
    body: om(['# TYPE c counter', 'c_total +Inf']),
    valid: true,
  },
  {
    rule: 'a summary count is an integer',
    clause: 'Summary: Count MUST be an integer',
    format: 'openmetrics',
    body: om(['# TYPE s summary', 's_count 1.5', 's_sum 2']),
    valid: false,
  },
  {
    rule: 'a summary sum is not negative',
    clause: 'Summary: Count and Sum values are counters so MUST NOT be NaN or negative',
    format: 'openmetrics',
    body: om(['# TYPE s summary', 's_count 1', 's_sum -2']),
    valid: false,
  },
  {
    rule: 'quantiles are between 0 and 1',
    clause: 'Summary: Quantiles MUST be between 0 and 1 inclusive',
    format: 'openmetrics',
    body: om(['# TYPE s summary', 's{quantile="1.5"} 1']),
    valid: false,
  },
  {
    rule: 'a quantile is not NaN',
    clause: 'Summary: Quantiles MUST be between 0 and 1 inclusive',
    format: 'openmetrics',
    body: om(['# TYPE s summary', 's{quantile="NaN"} 1']),
    valid: false,
  },
  {
    rule: 'quantile values are not negative',
    clause: 'Summary: Quantile values MUST NOT be negative',
    format: 'openmetrics',
    body: om(['# TYPE s summary', 's{quantile="0.5"} -1']),
    valid: false,
  },
  {
    rule: 'a quantile value may be NaN',
    clause: 'Summary: If there are no events in the relevant timeframe, the value for a quantile MUST be NaN',
    format: 'openmetrics',
    body: om(['# TYPE s summary', 's{quantile="0.5"} NaN']),
    valid: true,
  },
  // Interleaving, grouping, clashes.
  {
    rule: 'metric families are not interleaved',
    clause: 'MetricFamily: MetricFamilies MUST NOT be interleaved',
    format: 'openmetrics',
    body: om(['# TYPE a gauge', 'a 1', '# TYPE b gauge', 'b 1', 'a{x="y"} 1']),
    valid: false,
  },
  {
    rule: "a label set's samples are together",
    clause: 'Metric: Metrics MUST NOT be interleaved',
    format: 'openmetrics',
    body: om([
      '# TYPE s summary',
      's_count{a="bb"} 0',
      's_count{a="ccc"} 0',
      's_sum{a="bb"} 0',
      's_sum{a="ccc"} 0',
    ]),
    valid: false,
  },
  {
    rule: 'histogram label sets are not interleaved',
    clause: 'Metric: Metrics MUST NOT be interleaved',
    format: 'openmetrics',
    body: h([
      'h_bucket{a="1",le="+Inf"} 1',
      'h_bucket{a="2",le="+Inf"} 1',
      'h_count{a="1"} 1',
      'h_sum{a="1"} 1',
      'h_count{a="2"} 1',
      'h_sum{a="2"} 1',
    ]),
    valid: false,
  },
  {
    rule: 'MetricPoints of a label set are not interleaved',
    clause: 'MetricPoint: MetricPoints MUST NOT be interleaved',
    format: 'openmetrics',
    body: om([
      '# TYPE s summary',
      's_count{a="bb"} 0 123',
      's_count{a="bb"} 0 456',
      's_sum{a="bb"} 0 123',
      's_sum{a="bb"} 0 456',
    ]),
    valid: false,
  },
  {
    rule: 'a series repeats with increasing timestamps',
    clause: 'MetricPoint (the spec example with two MetricPoints per Metric)',
    format: 'openmetrics',
    body: om([
      '# TYPE s summary',
      's_count{a="bb"} 0 123',
      's_sum{a="bb"} 0 123',
      's_count{a="bb"} 0 456',
      's_sum{a="bb"} 0 456',
    ]),
    valid: true,
  },
  {
    rule: 'a gauge repeats with increasing timestamps',
    clause: 'Gauge (the example with two MetricPoints)',
    format: 'openmetrics',
    body: om(['# TYPE foo gauge', 'foo 17.0 123', 'foo 18.0 456']),
    valid: true,
  },
  {
    rule: 'a series repeated with an equal timestamp is rejected',
    clause: 'MetricPoint: timestamps increase within a Metric',
    format: 'openmetrics',
    body: om(['# TYPE foo gauge', 'foo 17.0 123', 'foo 18.0 123']),
    valid: false,
    difference:
      'client_python drops the second sample silently; a duplicate has no meaning and Prometheus rejects it',
  },
  {
    rule: 'a series repeated with a decreasing timestamp is rejected',
    clause: 'MetricPoint: timestamps increase within a Metric',
    format: 'openmetrics',
    body: om(['# TYPE foo gauge', 'foo 17.0 456', 'foo 18.0 123']),
    valid: false,
  },
  {
    rule: 'a series repeated without timestamps is rejected',
    clause: 'MetricPoint',
    format: 'openmetrics',
    body: om(['# TYPE foo gauge', 'foo 17.0', 'foo 18.0']),
    valid: false,
    difference:
      'client_python drops the second sample silently; a duplicate has no meaning and Prometheus rejects it',
  },
  {
    rule: 'timestamps are all present or all absent in a label set',
    clause: 'MetricPoint',
    format: 'openmetrics',
    body: om(['# TYPE c counter', 'c_total 1 100', 'c_created 1']),
    valid: false,
  },
  {
    rule: "a counter's _created clashes with a gauge of that name",
    clause: 'MetricSet: Each MetricFamily name MUST be unique',
    format: 'openmetrics',
    body: om(['# TYPE a counter', 'a_total 1', '# TYPE a_created gauge', 'a_created 1']),
    valid: false,
  },
  {
    rule: "a histogram's _count clashes with a family of that name",
    clause: 'MetricSet: Each MetricFamily name MUST be unique',
    format: 'openmetrics',
    body: om(['# TYPE h_count gauge', 'h_count 1', '# TYPE h histogram', 'h_bucket{le="+Inf"} 1']),
    valid: false,
  },
  // UNIT, HELP, TYPE and sample syntax.
  {
    rule: 'no UNIT on an info family',
    clause: 'Info: MetricFamilies of type Info MUST have an empty Unit string',
    format: 'openmetrics',
    body: om(['# TYPE i_x info', '# UNIT i_x x', 'i_x_info 1']),
    valid: false,
  },
  {
    rule: 'no UNIT on a stateset family',
    clause: 'StateSet: MetricFamilies of type StateSets MUST have an empty Unit string',
    format: 'openmetrics',
    body: om(['# TYPE s_x stateset', '# UNIT s_x x', 's_x{s_x="a"} 1']),
    valid: false,
  },
  {
    rule: 'a unit is a suffix of the family name',
    clause: 'MetricFamily metadata: an underscore and the unit MUST be the suffix',
    format: 'openmetrics',
    body: om(['# TYPE foo counter', '# UNIT foo seconds', 'foo_total 1']),
    valid: false,
  },
  {
    rule: 'one space between # TYPE and the name',
    clause: 'ABNF: metric-descriptor = HASH SP type SP metricname SP metric-type',
    format: 'openmetrics',
    body: om(['# TYPE  foo gauge', 'foo 1']),
    valid: false,
  },
  {
    rule: 'one space between the name and the type',
    clause: 'ABNF: metric-descriptor = HASH SP type SP metricname SP metric-type',
    format: 'openmetrics',
    body: om(['# TYPE foo  gauge', 'foo 1']),
    valid: false,
  },
  {
    rule: 'no space after the type',
    clause: 'ABNF: metric-descriptor = HASH SP type SP metricname SP metric-type LF',
    format: 'openmetrics',
    body: om(['# TYPE foo gauge ', 'foo 1']),
    valid: false,
  },
  {
    rule: 'HELP has a space before its text even when empty',
    clause: 'ABNF: HASH SP help SP metricname SP escaped-string',
    format: 'openmetrics',
    body: om(['# HELP foo', 'foo 1']),
    valid: false,
  },
  {
    rule: 'an empty HELP text is valid',
    clause: 'MetricFamily metadata: The value of a UNIT or HELP line MAY be empty',
    format: 'openmetrics',
    body: om(['# HELP foo ', 'foo 1']),
    valid: true,
  },
  {
    rule: 'one space between series and value',
    clause: 'ABNF: sample = metricname [labels] SP number',
    format: 'openmetrics',
    body: om(['foo  1']),
    valid: false,
  },
  {
    rule: 'no space at the end of a sample',
    clause: 'ABNF: sample = metricname [labels] SP number [SP timestamp] [exemplar] LF',
    format: 'openmetrics',
    body: om(['foo 1 ']),
    valid: false,
  },
  {
    rule: 'no space before the labels',
    clause: 'ABNF: sample = metricname [labels]',
    format: 'openmetrics',
    body: om(['foo {a="b"} 1']),
    valid: false,
  },
  {
    rule: 'no comments but HELP, TYPE, UNIT',
    clause: 'MetricFamily metadata: you MUST NOT expose lines beginning with a #',
    format: 'openmetrics',
    body: om(['# a comment', 'foo 1']),
    valid: false,
  },
  {
    rule: 'the body ends with # EOF',
    clause: 'ABNF: exposition = metricset HASH SP eof [ LF ]',
    format: 'openmetrics',
    body: 'foo 1\n',
    valid: false,
  },
  {
    rule: 'untyped is not an OpenMetrics type',
    clause: 'Type',
    format: 'openmetrics',
    body: om(['# TYPE foo untyped', 'foo 1']),
    valid: false,
  },
  // Escapes and numbers.
  {
    rule: 'any character may be escaped in a label value',
    clause: 'ABNF: escaped-char =/ BS normal-char',
    format: 'openmetrics',
    body: om(['foo{a="\\z\\f"} 1']),
    valid: true,
  },
  {
    rule: 'label values may hold any UTF-8',
    clause: 'Labels: Label values MAY be any valid UTF-8 value',
    format: 'openmetrics',
    body: om(['foo{a="日本 🙂 \\"q\\" \\\\ \\n"} 1']),
    valid: true,
  },
  {
    rule: 'NaN is written nan in any case, without a sign',
    clause: 'ABNF: number =/ "nan"',
    format: 'openmetrics',
    body: om(['foo +nan']),
    valid: false,
    difference:
      "client_python reads the value with Python's float(), which takes +nan; the ABNF has no sign on nan",
  },
  {
    rule: 'infinities take a sign and either spelling',
    clause: 'ABNF: number =/ [SIGN] ("inf" / "infinity")',
    format: 'openmetrics',
    body: om(['foo -Infinity', 'bar +inf']),
    valid: true,
  },
  {
    rule: 'timestamps are real numbers',
    clause: 'ABNF: timestamp = realnumber',
    format: 'openmetrics',
    body: om(['foo 1 1.5e9']),
    valid: true,
  },
  {
    rule: 'a timestamp is not NaN',
    clause: 'ABNF: timestamp = realnumber',
    format: 'openmetrics',
    body: om(['foo 1 NaN']),
    valid: false,
  },
  {
    rule: 'timestamps Prometheus cannot store are rejected',
    clause: 'Timestamps (int64 milliseconds in Prometheus)',
    format: 'openmetrics',
    body: om(['foo 1 1e300']),
    valid: false,
    difference:
      'client_python keeps any float; Prometheus stores int64 milliseconds and its text parser rejects larger ones',
  },
  // Text 0.0.4.
  {
    rule: 'text: blanks between the name and { are valid',
    clause: 'text 0.0.4: tokens may be separated by any blanks',
    format: 'text',
    body: text(['name {a="b"} 1']),
    valid: true,
  },
  {
    rule: 'text: the body ends with a newline',
    clause: 'text 0.0.4: lines are separated by \\n; the last line MUST end with one',
    format: 'text',
    body: 'a 1',
    valid: false,
  },
  {
    rule: 'text: histogram bucket counts are not negative',
    clause: 'text 0.0.4: histogram buckets are cumulative counters',
    format: 'text',
    body: text(['# TYPE h histogram', 'h_bucket{le="+Inf"} -1']),
    valid: false,
  },
  {
    rule: 'text: any escaped character in a label value is valid',
    clause: "text 0.0.4 as Prometheus' scrape parser reads it",
    format: 'text',
    body: text(['a{x="\\z"} 1']),
    valid: true,
  },
  {
    rule: 'text: non-integer bucket counts are text-only',
    clause: 'Histogram: Count and bucket values MUST be integers (OpenMetrics only)',
    format: 'text',
    body: text(['# TYPE h histogram', 'h_bucket{le="+Inf"} 1.5', 'h_count 1.5', 'h_sum 1']),
    valid: true,
    textOnly: true,
  },
  {
    rule: 'text: a NaN counter is text-only',
    clause: 'Counter: A Total is a non-NaN (OpenMetrics only)',
    format: 'text',
    body: text(['# TYPE c_total counter', 'c_total NaN']),
    valid: true,
    textOnly: true,
  },
  {
    rule: 'text: a histogram without +Inf is text-only',
    clause: 'Histogram: MUST have one bucket with an +Inf threshold (OpenMetrics only)',
    format: 'text',
    body: text(['# TYPE h histogram', 'h_bucket{le="1"} 1']),
    valid: true,
    textOnly: true,
  },
  {
    rule: 'text: huge timestamps are rejected',
    clause: 'text 0.0.4: timestamps are int64 milliseconds',
    format: 'text',
    body: text(['a 1 123456789012345678901234']),
    valid: false,
  },
];

function verdict(body: string, format: ExpositionFormat): { ok: boolean; error?: string } {
  try {
    parseExposition(body, format);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

describe('conformance: every rule the parser enforces', () => {
  for (const c of CASES) {
    it(`${c.valid ? 'accepts' : 'rejects'}: ${c.rule} (${c.clause})`, () => {
      const got = verdict(c.body, c.format);
      expect(got.ok, got.error ?? 'accepted').toBe(c.valid);
      if (c.valid && c.format === 'text') {
        const families = parseExposition(c.body, 'text').families;
        expect(families.some((family) => family.openMetricsProblem !== undefined)).toBe(c.textOnly === true);
      }
    });
  }
});

describe('conformance against the references', () => {
  const python = requireTool('python3 with prometheus_client', PYTHON_CLIENT_PROBE);
  const promtool = requireTool('promtool', PROMTOOL_PROBE);

  describe.skipIf(!python.available)("client_python's strict parser", () => {
    let strict: StrictOpenMetricsParser;
    beforeAll(() => {
      strict = new StrictOpenMetricsParser();
    });
    afterAll(() => strict.close());

    it('agrees on every OpenMetrics case but the documented differences', async () => {
      for (const c of CASES.filter((c) => c.format === 'openmetrics')) {
        const reference = await strict.check(c.body);
        const expected = c.difference === undefined ? c.valid : !c.valid;
        expect(reference.ok, `${c.rule}: ${reference.error ?? 'accepted'}`).toBe(expected);
      }
    });

    it('accepts the OpenMetrics rendering of every valid case', async () => {
      for (const c of CASES.filter((c) => c.valid)) {
        const body = renderOpenMetrics(parseExposition(c.body, c.format).families);
        const reference = await strict.check(body);
        expect(reference.ok, `${c.rule}: ${reference.error ?? ''}\n${body}`).toBe(true);
      }
    });
  });

  describe.skipIf(!promtool.available)('promtool', () => {
    it('parses the text rendering of every valid case', () => {
      for (const c of CASES.filter((c) => c.valid)) {
        const body = renderText(parseExposition(c.body, c.format).families);
        const reference = promtoolParses(body);
        expect(reference.ok, `${c.rule}: ${reference.error ?? ''}\n${body}`).toBe(true);
      }
    });
  });
});
