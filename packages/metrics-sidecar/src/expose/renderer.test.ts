import { describe, expect, it } from 'vitest';
import { parseExposition } from '../scrape/exposition-parser.js';
import { renderOpenMetrics, renderOpenMetricsBody, renderText, renderTextBody } from './renderer.js';

const openMetricsBody = [
  '# TYPE jobs counter',
  '# HELP jobs Jobs "run".\\nAll of them.',
  'jobs_total{kind="a"} 3 # {trace_id="t1"} 1 1700000000.5',
  'jobs_created{kind="a"} 1700000000',
  '# TYPE latency_seconds histogram',
  '# UNIT latency_seconds seconds',
  'latency_seconds_bucket{le="1"} 1 # {trace_id="t2"} 0.4',
  'latency_seconds_bucket{le="+Inf"} 2',
  'latency_seconds_count 2',
  'latency_seconds_sum 3.5',
  'latency_seconds_created 1700000000',
  '# TYPE queue gaugehistogram',
  'queue_bucket{le="+Inf"} 4',
  'queue_gcount 4',
  'queue_gsum 9',
  '# TYPE build info',
  'build_info{version="2"} 1',
  '# TYPE mode stateset',
  'mode{mode="on"} 1',
  '# TYPE temp gauge',
  'temp 21.5 1700000000.123',
  '# TYPE other unknown',
  'other NaN',
  '# EOF',
  '',
].join('\n');

describe('renderOpenMetrics', () => {
  it('reproduces an OpenMetrics body with every type, exemplar and timestamp', () => {
    const families = parseExposition(openMetricsBody, 'openmetrics').families;
    const body = renderOpenMetrics(families);
    expect(body).toContain('# HELP jobs Jobs \\"run\\".\\nAll of them.\n');
    expect(body).toContain('jobs_total{kind="a"} 3 # {trace_id="t1"} 1 1700000000.5\n');
    expect(body).toContain('# UNIT latency_seconds seconds\n');
    expect(body).toContain('temp 21.5 1700000000.123\n');
    expect(body.endsWith('other NaN\n# EOF\n')).toBe(true);
    expect(body.match(/# EOF/g)).toHaveLength(1);
    expect(parseExposition(body, 'openmetrics').families).toEqual(families);
  });

  it('serves text counters with _total as counters and without it as unknown, untyped as unknown', () => {
    const families = parseExposition(
      '# TYPE a_total counter\na_total 1\n# TYPE legacy counter\nlegacy 2\n# TYPE u untyped\nu 3\n',
      'text',
    ).families;
    expect(renderOpenMetrics(families)).toBe(
      '# TYPE a counter\na_total 1\n# TYPE legacy unknown\nlegacy 2\n# TYPE u unknown\nu 3\n# EOF\n',
    );
  });

  it('converts text timestamps from milliseconds to seconds', () => {
    const families = parseExposition('a 1 1700000000123\n', 'text').families;
    expect(renderOpenMetrics(families)).toContain('a 1 1700000000.123\n');
  });
});

describe('renderText', () => {
  it('converts OpenMetrics as client_python does: _total names, split-off gauges, no UNIT, no exemplars', () => {
    const body = renderText(parseExposition(openMetricsBody, 'openmetrics').families);
    expect(body).toBe(
      [
        '# HELP jobs_total Jobs "run".\\nAll of them.',
        '# TYPE jobs_total counter',
        'jobs_total{kind="a"} 3',
        '# HELP jobs_created Jobs "run".\\nAll of them.',
        '# TYPE jobs_created gauge',
        'jobs_created{kind="a"} 1700000000',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{le="1"} 1',
        'latency_seconds_bucket{le="+Inf"} 2',
        'latency_seconds_count 2',
        'latency_seconds_sum 3.5',
        '# TYPE latency_seconds_created gauge',
        'latency_seconds_created 1700000000',
        '# TYPE queue histogram',
        'queue_bucket{le="+Inf"} 4',
        '# TYPE queue_gcount gauge',
        'queue_gcount 4',
        '# TYPE queue_gsum gauge',
        'queue_gsum 9',
        '# TYPE build_info gauge',
        'build_info{version="2"} 1',
        '# TYPE mode gauge',
        'mode{mode="on"} 1',
        '# TYPE temp gauge',
        'temp 21.5 1700000000123',
        '# TYPE other untyped',
        'other NaN',
        '',
      ].join('\n'),
    );
    // And the result is valid text 0.0.4 again.
    expect(() => parseExposition(body, 'text')).not.toThrow();
  });

  it('reproduces a text body', () => {
    const text =
      '# HELP a_total A \\\\ b.\n# TYPE a_total counter\na_total{x="1"} 1\n# TYPE legacy counter\nlegacy 2\n# TYPE u untyped\nu 3\n';
    expect(renderText(parseExposition(text, 'text').families)).toBe(text);
  });

  it('leaves out a split-off gauge whose name another family has', () => {
    // One body may not hold both (the names clash); families handed in from two sources may.
    const families = [
      ...parseExposition('# TYPE c counter\nc_total 1\nc_created 5\n# EOF\n', 'openmetrics').families,
      ...parseExposition('# TYPE c_created gauge\nc_created{x="y"} 2\n# EOF\n', 'openmetrics').families,
    ];
    const body = renderText(families);
    expect(body.match(/# TYPE c_created/g)).toHaveLength(1);
    expect(() => parseExposition(body, 'text')).not.toThrow();
  });
});

describe('renderOpenMetricsBody and renderTextBody', () => {
  it('are the UTF-8 bytes of the string renderings, timestamps, exemplars and non-ASCII included', () => {
    const bodies = [
      parseExposition(openMetricsBody, 'openmetrics').families,
      parseExposition(
        '# HELP größe Größe in €.\n# TYPE größe gauge\ngröße{ort="Zürich",x="日本🙂"} 1 1700000000123\n'.replace(
          /größe/g,
          'groesse',
        ),
        'text',
      ).families,
    ];
    for (const families of bodies) {
      expect(renderOpenMetricsBody(families).equals(Buffer.from(renderOpenMetrics(families)))).toBe(true);
      expect(renderTextBody(families).equals(Buffer.from(renderText(families)))).toBe(true);
    }
  });
});
