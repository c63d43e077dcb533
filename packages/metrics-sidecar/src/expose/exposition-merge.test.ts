import { describe, expect, it } from 'vitest';
import { parseExposition } from '../scrape/exposition-parser.js';
import { seriesOf, valueText } from '../scrape/snapshot.js';
import { mergeSources } from './exposition-merge.js';
import { renderOpenMetrics } from './renderer.js';

const source = (name: string, body: string) => ({ name, families: parseExposition(body, 'text').families });

describe('mergeSources', () => {
  it('serves the sources in order and keeps their families untouched without conflicts', () => {
    const a = source('a', '# TYPE x gauge\nx 1\n');
    const b = source('b', '# TYPE y gauge\ny 2\n');
    const merged = mergeSources([a, b]);
    expect(merged.conflicts).toEqual([]);
    expect(merged.families).toEqual([...a.families, ...b.families]);
    expect(merged.families[0]).toBe(a.families[0]);
  });

  it('joins a family two sources expose with the same type into one', () => {
    const merged = mergeSources([
      source('a', '# HELP x From a.\n# TYPE x gauge\nx{src="a"} 1\n'),
      source('b', '# HELP x From b.\n# TYPE x gauge\nx{src="b"} 2\n'),
    ]);
    expect(merged.conflicts).toEqual([]);
    expect(renderOpenMetrics(merged.families)).toBe(
      '# TYPE x gauge\n# HELP x From a.\nx{src="a"} 1\nx{src="b"} 2\n# EOF\n',
    );
  });

  it('keeps the first source family when types differ', () => {
    const merged = mergeSources([
      source('a', '# TYPE x gauge\nx 1\n'),
      source('b', '# TYPE x_total counter\nx_total 2\n'),
    ]);
    expect(merged.families).toHaveLength(1);
    expect(merged.families[0]!.type).toBe('gauge');
    expect(merged.conflicts).toEqual([
      {
        kind: 'type',
        family: 'x',
        kept: { source: 'a', type: 'gauge' },
        dropped: { source: 'b', type: 'counter' },
      },
    ]);
  });

  it('keeps the first source copy of a series exposed twice', () => {
    const merged = mergeSources([
      source('a', '# TYPE x gauge\nx{k="1"} 1\n'),
      source('b', '# TYPE x gauge\nx{k="2"} 2\nx{k="1"} 3\n'),
    ]);
    expect(merged.families[0]!.samples.map((s) => [seriesOf(s), valueText(s)])).toEqual([
      ['x{k="1"}', '1'],
      ['x{k="2"}', '2'],
    ]);
    expect(merged.conflicts).toEqual([
      { kind: 'series', series: 'x{k="1"}', kept: { source: 'a' }, dropped: { source: 'b', line: 3 } },
    ]);
  });
});
