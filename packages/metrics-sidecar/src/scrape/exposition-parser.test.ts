import { describe, expect, it } from 'vitest';
import { createExpositionParser, ExpositionError, parseExposition } from './exposition-parser.js';
import { type ExpositionFormat, seriesKey, seriesOf, valueText } from './snapshot.js';

function rejects(format: ExpositionFormat, body: string, line: number, message: RegExp): void {
  let caught: unknown;
  try {
    parseExposition(body, format);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ExpositionError);
  const error = caught as ExpositionError;
  expect(error.kind).toBe('parse');
  expect(error.problem).toMatch(message);
  expect(error.line).toBe(line);
}

const om = (body: string) => parseExposition(body, 'openmetrics');
const text = (body: string) => parseExposition(body, 'text');

describe('ExpositionParser, text 0.0.4', () => {
  it('keeps families with HELP and TYPE, samples, labels and timestamps', () => {
    const parsed = text(
      [
        '# HELP http_requests_total Requests served.\\nPer code.',
        '# TYPE http_requests_total counter',
        'http_requests_total{code="200",method="get"} 1027 1395066363000',
        'http_requests_total{code="400",method="post"} 3 1395066363000',
        '',
        '# A free comment is ignored.',
        'metric_without_timestamp_and_labels 12.47',
        '# TYPE rpc_duration_seconds summary',
        'rpc_duration_seconds{quantile="0.5"} 4773',
        'rpc_duration_seconds_sum 1.7560473e+07',
        'rpc_duration_seconds_count 2693',
        '',
      ].join('\n'),
    );
    expect(parsed.sampleCount).toBe(6);
    const [counter, untyped, summary] = parsed.families;
    expect(counter).toMatchObject({
      name: 'http_requests',
      type: 'counter',
      legacyCounter: false,
      help: 'Requests served.\nPer code.',
    });
    expect(counter!.samples[0]).toMatchObject({
      name: 'http_requests_total',
      text: 'http_requests_total{code="200",method="get"} 1027',
      seriesLength: 'http_requests_total{code="200",method="get"}'.length,
      timestampMs: 1395066363000,
      line: 3,
    });
    expect(untyped).toMatchObject({ name: 'metric_without_timestamp_and_labels', type: 'unknown' });
    expect(summary!.type).toBe('summary');
    expect(summary!.samples.map((s) => s.name)).toEqual([
      'rpc_duration_seconds',
      'rpc_duration_seconds_sum',
      'rpc_duration_seconds_count',
    ]);
  });

  it('parses a histogram with its buckets, sum and count as one family', () => {
    const parsed = text(
      '# TYPE h histogram\nh_bucket{le="0.1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 0.3\nh_count 2\n',
    );
    expect(parsed.families).toHaveLength(1);
    expect(parsed.families[0]!.samples).toHaveLength(4);
  });

  it('normalises special values and keeps decimals as written', () => {
    const parsed = text('a{x="1"} +Inf\na{x="2"} -inf\na{x="3"} nan\na{x="4"} 1.50e3\na{x="5"} 1e999\n');
    expect(parsed.families[0]!.samples.map(valueText)).toEqual(['+Inf', '-Inf', 'NaN', '1.50e3', '+Inf']);
  });

  it('checks decimals in place: every form of the grammar, overflow, and what is not a float', () => {
    const values = ['1.', '.5', '+1', '-0', '5.e3', '1E-2', '007', '9'.repeat(301), '-1e999', '2e+308'];
    const parsed = text(`${values.map((value, k) => `a{x="${k}"} ${value}`).join('\n')}\n`);
    expect(parsed.families[0]!.samples.map(valueText)).toEqual([
      ...values.slice(0, 7),
      '9'.repeat(301),
      '-Inf',
      '+Inf',
    ]);
    for (const bad of ['.', '+', '1e', '1e+', '1.2.3', '1_0', '0x10', '--1', 'e5', '1ee5']) {
      rejects('text', `a ${bad}\n`, 1, /is not a valid value/);
    }
    rejects('text', '# TYPE h histogram\nh_bucket{le="1e"} 1\n', 2, /le must be a float/);
    expect(om('# TYPE c counter\nc_total -0\nc_total{a="b"} 1e3\n# EOF\n').sampleCount).toBe(2);
    rejects('openmetrics', '# TYPE c counter\nc_total -0.5\n# EOF\n', 2, /must be a number >= 0/);
    rejects('openmetrics', '# TYPE c counter\nc_total -1e999\n# EOF\n', 2, /must be a number >= 0/);
  });

  it('parses the same whatever sample count it is told to expect', () => {
    const lines = Array.from({ length: 3000 }, (_, k) => `a{x="${k}"} 1`);
    const body = `${lines.join('\n')}\n`;
    for (const expectedSamples of [0, 10, 3000, 1e9]) {
      const parser = createExpositionParser('text', { sampleLimit: 10_000, expectedSamples });
      parser.push(body);
      expect(parser.end()).toEqual(text(body));
    }
  });

  it('rejects names and label names with characters outside their classes', () => {
    rejects('text', 'é 1\n', 1, /does not start with a metric name/);
    rejects('text', 'a{é="1"} 1\n', 1, /does not start with a label name/);
    rejects('text', 'a{1x="1"} 1\n', 1, /does not start with a label name/);
    rejects('text', 'a{x:y="1"} 1\n', 1, /expected "="/);
    expect(text('a:b_9{_x9="1"} 1\n').sampleCount).toBe(1);
  });

  it('finds a duplicate among many series (the series table grows past its first size)', () => {
    const lines = Array.from({ length: 5000 }, (_, k) => `a{x="${k}",y="${k % 7}"} 1`);
    expect(text(`${lines.join('\n')}\n`).sampleCount).toBe(5000);
    rejects('text', `${lines.join('\n')}\na{y="3",x="4000"} 2\n`, 5001, /duplicate series .*line 4001/);
  });

  it('accepts blanks around tokens, a trailing comma, and reprints the labels canonically', () => {
    const parsed = text('  a{ b = "1" , c="x\\"y\\\\z\\n", }   7   123\n');
    const sample = parsed.families[0]!.samples[0]!;
    expect(seriesOf(sample)).toBe('a{b="1",c="x\\"y\\\\z\\n"}');
    expect(valueText(sample)).toBe('7');
    expect(sample.timestampMs).toBe(123);
  });

  it('rejects a body without a final newline, as Prometheus does (it may have been cut off)', () => {
    rejects('text', 'a 1\nb 2', 2, /does not end with a newline/);
  });

  it('names a counter without _total as a legacy counter', () => {
    const parsed = text('# TYPE requests counter\nrequests 3\n');
    expect(parsed.families[0]).toMatchObject({ name: 'requests', legacyCounter: true });
  });

  it('keeps a _total counter legacy when its short name is another family', () => {
    const parsed = text('# TYPE a gauge\na 1\n# TYPE a_total counter\na_total 2\n');
    expect(parsed.families.map((f) => [f.name, f.legacyCounter])).toEqual([
      ['a', false],
      ['a_total', true],
    ]);
  });

  it('identifies series by their labels in any order', () => {
    rejects(
      'text',
      'a{x="1",y="2"} 1\na{y="2",x="1"} 2\n',
      2,
      /duplicate series a\{y="2",x="1"\}, first on line 1/,
    );
  });

  it('rejects a second TYPE line', () => {
    rejects('text', '# TYPE a gauge\n# TYPE a counter\na 1\n', 2, /second TYPE line for a/);
  });

  it('rejects a second HELP line', () => {
    rejects('text', '# HELP a one\n# HELP a two\n', 2, /second HELP line for a/);
  });

  it('rejects a TYPE line after the family samples', () => {
    rejects('text', 'a 1\n# TYPE a gauge\n', 2, /TYPE line for a after its samples/);
  });

  it('rejects an unknown type', () => {
    rejects('text', '# TYPE a gaugehistogram\n', 1, /"gaugehistogram" is not a metric type/);
  });

  it('rejects interleaved families', () => {
    rejects('text', 'a 1\nb 1\na{x="y"} 2\n', 3, /family a that appeared earlier/);
    rejects(
      'text',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nb 1\nh_count 1\n',
      4,
      /family h that appeared/,
    );
  });

  it('rejects a duplicate series', () => {
    rejects('text', 'a{x="1"} 1\na{x="1"} 2\n', 2, /duplicate series a\{x="1"\}/);
  });

  it('rejects bad values', () => {
    rejects('text', 'a 1,5\n', 1, /"1,5" is not a valid value/);
    rejects('text', 'a\n', 1, /expected a space and a value/);
    rejects('text', 'a 0x1F\n', 1, /not a valid value/);
  });

  it('rejects bad timestamps', () => {
    rejects('text', 'a 1 1.5\n', 1, /"1.5" is not a timestamp/);
    rejects('text', 'a 1 2 3\n', 1, /unexpected text "3" after the value of a/);
  });

  it('rejects bad label names, escapes and quoting', () => {
    rejects('text', 'a{1x="1"} 1\n', 1, /does not start with a label name/);
    expect(seriesOf(text('a{x="\\t"} 1\n').families[0]!.samples[0]!)).toBe('a{x="\\\\t"}');
    rejects('text', 'a{x=1} 1\n', 1, /expected a quoted value for label x/);
    rejects('text', 'a{x="1} 1\n', 1, /unterminated value for label x/);
    rejects('text', 'a{x="1" y="2"} 1\n', 1, /expected "," or "}"/);
    rejects('text', 'a{x="1",x="2"} 1\n', 1, /label x appears twice/);
    rejects('text', 'a{__name__="b"} 1\n', 1, /label name __name__ is reserved/);
  });

  it('rejects bad metric names', () => {
    rejects('text', '1a 1\n', 1, /does not start with a metric name/);
    rejects('text', 'a-b 1\n', 1, /expected a space and a value/);
    rejects('text', '# TYPE a-b gauge\n', 1, /"a-b" is not a valid metric name/);
  });

  it('rejects histogram buckets without a float le and summaries without quantile', () => {
    rejects('openmetrics', '# TYPE h histogram\nh_bucket 1\n# EOF\n', 2, /h_bucket has no le label/);
    rejects('text', '# TYPE h histogram\nh_bucket{le="big"} 1\n', 2, /le must be a float/);
    rejects('openmetrics', '# TYPE s summary\ns 1\n# EOF\n', 2, /s has no quantile label/);
    // Text parsers take these; they are served in text only.
    expect(text('# TYPE h histogram\nh_bucket 1\n').families[0]!.openMetricsProblem).toMatch(/no le label/);
    expect(text('# TYPE s summary\ns 1\n').families[0]!.openMetricsProblem).toMatch(/no quantile label/);
  });

  it('rejects exemplars, which text 0.0.4 does not have', () => {
    rejects('text', '# TYPE c counter\nc_total 1 # {a="b"} 1\n', 2, /unexpected text "# \{a="b"\} 1"/);
  });
});

describe('ExpositionParser, OpenMetrics 1.0', () => {
  it('tells a sample name from the previous one it starts with, and keeps alternating names apart', () => {
    // The parser matches a line against the previous sample's name in place: a longer name that starts
    // with it is another name, and a histogram's names alternate without mixing up series.
    const parsed = om(
      [
        '# TYPE foo gauge',
        'foo 1',
        'foo_bar 2',
        'foo:x{a="1"} 3',
        '# TYPE h histogram',
        'h_bucket{le="1"} 0',
        'h_bucket{le="+Inf"} 1',
        'h_count 1',
        'h_sum 2',
        'h_bucket{a="x",le="+Inf"} 1',
        'h_count{a="x"} 1',
        'h_sum{a="x"} 1',
        '# EOF',
        '',
      ].join('\n'),
    );
    expect(
      parsed.families.map((family) => [family.name, family.samples.map((sample) => sample.name)]),
    ).toEqual([
      ['foo', ['foo']],
      ['foo_bar', ['foo_bar']],
      ['foo:x', ['foo:x']],
      ['h', ['h_bucket', 'h_bucket', 'h_count', 'h_sum', 'h_bucket', 'h_count', 'h_sum']],
    ]);
    expect(parsed.families[3]!.samples.map((sample) => seriesOf(sample))).toEqual([
      'h_bucket{le="1"}',
      'h_bucket{le="+Inf"}',
      'h_count',
      'h_sum',
      'h_bucket{a="x",le="+Inf"}',
      'h_count{a="x"}',
      'h_sum{a="x"}',
    ]);
    rejects(
      'openmetrics',
      'foo 1\nfoo_bar 1\nfoo_bar 2\n# EOF\n',
      3,
      /duplicate series foo_bar, first on line 2/,
    );
    rejects('openmetrics', 'h_sum 1\nh_bucket 2\nh_sum 1\n# EOF\n', 3, /family h_sum that appeared earlier/);
  });

  const full = [
    '# TYPE acme_http_router_request_seconds summary',
    '# UNIT acme_http_router_request_seconds seconds',
    '# HELP acme_http_router_request_seconds Latency though all of ACME\'s "routers".',
    'acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32',
    'acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0',
    'acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0',
    '# TYPE foo counter',
    'foo_total 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67',
    'foo_created 1520430000.123 1520879607.789',
    '# TYPE h histogram',
    'h_bucket{le="1"} 0 # {trace_id="x"} 0.5 1520879607.5',
    'h_bucket{le="+Inf"} 1',
    'h_count 1',
    'h_sum 0.5',
    '# TYPE gh gaugehistogram',
    'gh_bucket{le="+Inf"} 3',
    'gh_gcount 3',
    'gh_gsum 2',
    '# TYPE build info',
    'build_info{version="1.2"} 1',
    '# TYPE state stateset',
    'state{state="a"} 1',
    'state{state="b"} 0',
    '# TYPE u unknown',
    'u 1',
    'no_metadata 2',
    '# EOF',
    '',
  ].join('\n');

  it('keeps every type, UNIT, HELP, exemplars and timestamps', () => {
    const parsed = om(full);
    expect(parsed.families.map((f) => [f.name, f.type])).toEqual([
      ['acme_http_router_request_seconds', 'summary'],
      ['foo', 'counter'],
      ['h', 'histogram'],
      ['gh', 'gaugehistogram'],
      ['build', 'info'],
      ['state', 'stateset'],
      ['u', 'unknown'],
      ['no_metadata', 'unknown'],
    ]);
    expect(parsed.families[0]).toMatchObject({
      unit: 'seconds',
      help: 'Latency though all of ACME\'s "routers".',
    });
    const total = parsed.families[1]!.samples[0]!;
    expect(total).toMatchObject({
      name: 'foo_total',
      text: 'foo_total 17.0',
      timestampMs: 1520879607789,
      exemplar: ' # {trace_id="KOO5S4vxi0o"} 0.67',
    });
    expect(parsed.families[2]!.samples[0]!.exemplar).toBe(' # {trace_id="x"} 0.5 1520879607.5');
    expect(parsed.sampleCount).toBe(17);
  });

  it('accepts "# EOF" without a final newline', () => {
    expect(om('a 1\n# EOF').sampleCount).toBe(1);
  });

  it('parses the same across any split into chunks', () => {
    const whole = om(full);
    for (const size of [1, 2, 7, 64]) {
      const parser = createExpositionParser('openmetrics', { sampleLimit: 1000 });
      for (let i = 0; i < full.length; i += size) parser.push(full.slice(i, i + size));
      expect(parser.end()).toEqual(whole);
    }
  });

  it('requires "# EOF" at the end', () => {
    rejects('openmetrics', 'a 1\n', 1, /does not end with "# EOF"/);
    rejects('openmetrics', 'a 1\nb 2', 2, /last line is not "# EOF"/);
  });

  it('rejects anything after "# EOF"', () => {
    rejects('openmetrics', 'a 1\n# EOF\nb 1\n', 3, /content after "# EOF"/);
    rejects('openmetrics', '# EOF\n\n', 2, /content after "# EOF"/);
    rejects('openmetrics', '# EOF\n# EOF\n', 2, /content after "# EOF"/);
  });

  it('rejects blank lines and free comments', () => {
    rejects('openmetrics', 'a 1\n\n# EOF\n', 2, /blank line/);
    rejects('openmetrics', '# hello\n# EOF\n', 1, /not a HELP, TYPE or UNIT line/);
  });

  it('rejects a second TYPE, HELP or UNIT, and metadata after samples', () => {
    rejects('openmetrics', '# TYPE a gauge\n# TYPE a gauge\n# EOF\n', 2, /second TYPE line for a/);
    rejects('openmetrics', '# HELP a x\n# HELP a y\n# EOF\n', 2, /second HELP line for a/);
    rejects('openmetrics', '# UNIT a_s s\n# UNIT a_s s\n# EOF\n', 2, /second UNIT line/);
    rejects(
      'openmetrics',
      '# TYPE a gauge\na 1\n# HELP a x\n# EOF\n',
      3,
      /HELP line for a after its samples/,
    );
  });

  it('rejects a unit that is not a suffix of the family name', () => {
    rejects('openmetrics', '# TYPE a gauge\n# UNIT a seconds\n# EOF\n', 2, /unit "seconds" is not a suffix/);
  });

  it('rejects samples that do not fit their family type', () => {
    rejects('openmetrics', '# TYPE c counter\nc 1\n# EOF\n', 2, /sample c does not fit the counter family c/);
    rejects('openmetrics', '# TYPE g gauge\ng_total 1\ng 2\n# EOF\n', 3, /family g that appeared earlier/);
  });

  it('rejects interleaved families', () => {
    rejects(
      'openmetrics',
      '# TYPE c counter\nc_total 1\nb 1\nc_created 1\n# EOF\n',
      4,
      /family c that appeared/,
    );
    rejects(
      'openmetrics',
      '# TYPE a gauge\na 1\n# TYPE b gauge\n# TYPE a gauge\n# EOF\n',
      4,
      /appeared earlier/,
    );
  });

  it('rejects a duplicate series', () => {
    rejects('openmetrics', 'a{x="1"} 1\na{x="1"} 1\n# EOF\n', 2, /duplicate series/);
  });

  it('is strict about single spaces and commas', () => {
    rejects('openmetrics', 'a  1\n# EOF\n', 1, /not a valid value/);
    rejects('openmetrics', 'a{x="1",} 1\n# EOF\n', 1, /comma before "\}"/);
    rejects('openmetrics', 'a{ x="1"} 1\n# EOF\n', 1, /does not start with a label name/);
  });

  it('rejects reserved label names', () => {
    rejects('openmetrics', 'a{__x="1"} 1\n# EOF\n', 1, /label name __x is reserved/);
  });

  it('rejects negative or NaN counters and counts', () => {
    rejects(
      'openmetrics',
      '# TYPE c counter\nc_total -1\n# EOF\n',
      2,
      /c_total is -1; it must be a number >= 0/,
    );
    rejects('openmetrics', '# TYPE c counter\nc_total NaN\n# EOF\n', 2, /must be a number >= 0/);
  });

  it('rejects exemplars where OpenMetrics does not allow them', () => {
    rejects('openmetrics', '# TYPE g gauge\ng 1 # {a="b"} 1\n# EOF\n', 2, /exemplar on g/);
    rejects('openmetrics', `# TYPE c counter\nc_total 1 # {a="${'x'.repeat(130)}"} 1\n# EOF\n`, 2, /128/);
    rejects(
      'openmetrics',
      '# TYPE c counter\nc_total 1 # {a="b"}\n# EOF\n',
      2,
      /expected a space and a value/,
    );
  });

  it('rejects bad stateset and info values', () => {
    rejects('openmetrics', '# TYPE s stateset\ns{s="a"} 2\n# EOF\n', 2, /use 0 or 1/);
    rejects('openmetrics', '# TYPE s stateset\ns{t="a"} 1\n# EOF\n', 2, /no label named s/);
    rejects('openmetrics', '# TYPE i info\ni_info 2\n# EOF\n', 2, /must be 1/);
  });

  it('rejects untyped, which is text-only', () => {
    rejects('openmetrics', '# TYPE a untyped\n# EOF\n', 1, /"untyped" is not a metric type/);
  });

  it('rejects a timestamp that is not a number of seconds', () => {
    rejects('openmetrics', 'a 1 soon\n# EOF\n', 1, /"soon" is not a timestamp/);
  });
});

describe('sample limit', () => {
  it('fails with kind sample_limit past the limit', () => {
    const parser = createExpositionParser('text', { sampleLimit: 2 });
    parser.push('a 1\nb 1\n');
    expect(() => parser.push('c 1\n')).toThrow(
      expect.objectContaining({ kind: 'sample_limit', line: 3 }) as unknown as Error,
    );
  });
});

describe('seriesKey', () => {
  it('sorts labels by name and leaves sorted or label-less series alone', () => {
    expect(seriesKey('a')).toBe('a');
    expect(seriesKey('a{x="1",y="2"}')).toBe('a{x="1",y="2"}');
    expect(seriesKey('a{y="2",x="1"}')).toBe('a{x="1",y="2"}');
    expect(seriesKey('a{z="\\"}",b="x,y=\\"z"}')).toBe('a{b="x,y=\\"z",z="\\"}"}');
  });
});
