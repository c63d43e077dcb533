import { describe, expect, it } from 'vitest';
import { parseExposition } from '../scrape/exposition-parser.js';
import { seriesOf } from '../scrape/snapshot.js';
import { foldCreatedGauges } from './created-folding.js';

describe('text 0.0.4 _created gauges', () => {
  it("folds client_python's _created gauges into their family, after each label set's samples", () => {
    const body = [
      '# HELP c_total Calls.',
      '# TYPE c_total counter',
      'c_total{r="a"} 1.0',
      'c_total{r="b"} 2.0',
      '# HELP c_created Calls.',
      '# TYPE c_created gauge',
      'c_created{r="b"} 20.0',
      'c_created{r="a"} 10.0',
      '# TYPE h histogram',
      'h_bucket{le="1.0",r="a"} 1.0',
      'h_bucket{le="+Inf",r="a"} 1.0',
      'h_count{r="a"} 1.0',
      'h_sum{r="a"} 0.5',
      '# TYPE h_created gauge',
      'h_created{r="a"} 30.0',
      '',
    ].join('\n');
    const families = foldCreatedGauges(parseExposition(body, 'text').families);
    expect(families.map((f) => f.name)).toEqual(['c', 'h']);
    expect(families[0]!.samples.map(seriesOf)).toEqual([
      'c_total{r="a"}',
      'c_created{r="a"}',
      'c_total{r="b"}',
      'c_created{r="b"}',
    ]);
    expect(seriesOf(families[1]!.samples.at(-1)!)).toBe('h_created{r="a"}');
  });

  it('leaves a _created gauge alone when it has no owner family', () => {
    const families = foldCreatedGauges(
      parseExposition('# TYPE x_created gauge\nx_created 1\n', 'text').families,
    );
    expect(families.map((f) => [f.name, f.type])).toEqual([['x_created', 'gauge']]);
  });
});
