import { seededRandom } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { generatedBody, validBody } from '../../test/body-generator.js';
import { renderOpenMetrics, renderText } from '../expose/renderer.js';
import {
  createExpositionParser,
  type ExpositionParser,
  type ParsedExposition,
  parseExposition,
} from './exposition-parser.js';
import type { ExpositionFormat, MetricFamily } from './snapshot.js';

const LIMIT = { sampleLimit: 1000 };

/** What parsing `body` gives: the families, or the error's kind, line and problem. */
function outcome(parse: () => unknown): unknown {
  try {
    return parse();
  } catch (error) {
    const { kind, line, problem } = error as { kind: string; line: number; problem: string };
    return { kind, line, problem };
  }
}

function parseWith(parser: ExpositionParser, body: string, chunk = body.length): unknown {
  return outcome(() => {
    parser.reset(LIMIT);
    for (let at = 0; at < body.length; at += chunk) parser.push(body.slice(at, at + chunk));
    return parser.end();
  });
}

// A scrape client keeps one parser per format and resets it for each body (line-parser.ts says why):
// nothing of one body may leak into the next.
describe('a kept parser', () => {
  for (const format of ['openmetrics', 'text'] as const satisfies readonly ExpositionFormat[]) {
    it(`parses each of a run of ${format} bodies, valid or not, exactly as a fresh parser does`, () => {
      const rng = seededRandom(format === 'text' ? 16 : 61);
      const kept = createExpositionParser(format, LIMIT);
      let failures = 0;
      for (let k = 0; k < 300; k++) {
        const { lines } = generatedBody(rng);
        const body = `${lines.join('\n')}\n${format === 'openmetrics' ? '# EOF\n' : ''}`;
        const fresh = outcome(() => parseExposition(body, format, LIMIT));
        // Bodies that fail half-way are part of the run: the next body must not see their state.
        if ((fresh as { kind?: string }).kind !== undefined) failures++;
        expect(parseWith(kept, body, 1 + Math.floor(rng() * 200))).toEqual(fresh);
      }
      expect(failures).toBeGreaterThan(30);
      expect(failures).toBeLessThan(270);
    });
  }

  it('reflects a changed value, a changed label, a removed series and a changed type on the next body', () => {
    const kept = createExpositionParser('openmetrics', LIMIT);
    const first = [
      '# TYPE a counter',
      'a_total{x="1"} 1',
      'a_total{x="2"} 2',
      '# TYPE b gauge',
      'b 5',
      '# EOF',
      '',
    ].join('\n');
    expect(parseWith(kept, first)).toEqual(parseExposition(first, 'openmetrics'));
    const next = [
      '# TYPE a counter',
      'a_total{x="1"} 7',
      'a_total{x="3"} 2',
      '# TYPE b counter',
      'b_total 5',
      '# EOF',
      '',
    ].join('\n');
    const parsed = parseWith(kept, next) as ReturnType<typeof parseExposition>;
    expect(parsed).toEqual(parseExposition(next, 'openmetrics'));
    expect(parsed.families.map((f) => [f.name, f.type, f.samples.map((s) => s.text)])).toEqual([
      ['a', 'counter', ['a_total{x="1"} 7', 'a_total{x="3"} 2']],
      ['b', 'counter', ['b_total 5']],
    ]);
  });

  it('rejects in the next body what a fresh parser rejects, after a body that had the same series', () => {
    const kept = createExpositionParser('openmetrics', LIMIT);
    parseWith(kept, '# TYPE a gauge\na{x="1"} 1\n# EOF\n');
    expect(parseWith(kept, '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n# EOF\n')).toMatchObject({
      kind: 'parse',
      line: 3,
      problem: expect.stringMatching(/duplicate series/),
    });
    // And a family that appeared in the last body is not "seen earlier" in this one.
    expect(parseWith(kept, '# TYPE a gauge\na{x="1"} 1\n# EOF\n')).toMatchObject({ sampleCount: 1 });
  });
});

/** The same families with their samples as plain objects: what the renderers print from, sample by sample. */
function copied(families: readonly MetricFamily[]): MetricFamily[] {
  return families.map((family) => ({ ...family, samples: family.samples.map((sample) => ({ ...sample })) }));
}

function renderings(families: readonly MetricFamily[]): [string, string] {
  return [renderOpenMetrics(families), renderText(families)];
}

// The parser keeps a body's samples as spans of the body in one store per body, and the renderers write
// runs of adjacent scraped lines as one span (sample-store.ts): what they serve must be what printing
// each sample gives, for this body and, after the next one, still for the last.
describe("a kept parser's snapshots, as served", () => {
  for (const format of ['openmetrics', 'text'] as const satisfies readonly ExpositionFormat[]) {
    it(`render ${format} bodies in any chunking as their samples do, and stay so after the next body`, () => {
      const rng = seededRandom(format === 'text' ? 23 : 32);
      const kept = createExpositionParser(format, LIMIT);
      let previous: { families: readonly MetricFamily[]; rendered: [string, string] } | undefined;
      let checked = 0;
      for (let k = 0; k < 300; k++) {
        const { lines } = generatedBody(rng);
        // Text bodies get what text 0.0.4 allows between samples: comments, blank lines, leading blanks.
        const body =
          format === 'text'
            ? `${lines.map((line) => (rng() < 0.1 ? `  ${line}` : rng() < 0.05 ? `${line}\n# free comment\n` : line)).join('\n')}\n`
            : `${lines.join('\n')}\n# EOF\n`;
        const parsed = parseWith(kept, body, 1 + Math.floor(rng() * 300)) as
          | ParsedExposition
          | { kind: string };
        if (previous !== undefined) expect(renderings(previous.families)).toEqual(previous.rendered);
        if ('kind' in parsed) continue;
        const rendered = renderings(parsed.families);
        expect(rendered).toEqual(renderings(copied(parsed.families)));
        previous = { families: parsed.families, rendered };
        checked++;
      }
      expect(checked).toBeGreaterThan(30);
    });
  }

  it('reflects every change of the next body, and rejects an invalid line in an otherwise unchanged one', () => {
    const base = [
      '# TYPE h histogram',
      '# HELP h Latency.',
      'h_bucket{r="a",le="1.0"} 1',
      'h_bucket{r="a",le="+Inf"} 2',
      'h_count{r="a"} 2',
      'h_sum{r="a"} 0.5',
      '# TYPE c counter',
      'c_total{x="1"} 1',
      'c_total{x="2"} 2',
      '# TYPE g gauge',
      'g 5',
      '# EOF',
      '',
    ];
    const next: Record<string, (lines: string[]) => string[]> = {
      'a changed value': (l) => l.map((x) => (x === 'c_total{x="2"} 2' ? 'c_total{x="2"} 3' : x)),
      'a changed label': (l) => l.map((x) => (x === 'c_total{x="2"} 2' ? 'c_total{x="3"} 2' : x)),
      'reordered series': (l) => [...l.slice(0, 7), l[8]!, l[7]!, ...l.slice(9)],
      'a removed series': (l) => l.filter((x) => x !== 'c_total{x="1"} 1'),
      'an added series': (l) => [...l.slice(0, 9), 'c_total{x="9"} 9', ...l.slice(9)],
      'a changed type': (l) => l.map((x) => (x === '# TYPE g gauge' ? '# TYPE g unknown' : x)),
      'a changed HELP': (l) => l.map((x) => (x === '# HELP h Latency.' ? '# HELP h Time.' : x)),
      'a timestamp added': (l) => l.map((x) => (x === 'g 5' ? 'g 5 1700000000.5' : x)),
    };
    const kept = createExpositionParser('openmetrics', LIMIT);
    const body = base.join('\n');
    for (const [change, apply] of Object.entries(next)) {
      const before = parseWith(kept, body) as ParsedExposition;
      expect(renderings(before.families)).toEqual(renderings(parseExposition(body, 'openmetrics').families));
      const changed = apply(base).join('\n');
      expect(changed, change).not.toBe(body);
      const after = parseWith(kept, changed) as ParsedExposition;
      expect(renderings(after.families), change).toEqual(
        renderings(parseExposition(changed, 'openmetrics').families),
      );
      expect(renderOpenMetrics(after.families), change).toBe(changed);
      // The last snapshot still serves what it did.
      expect(renderOpenMetrics(before.families)).toBe(body);
    }
    const invalid: Record<string, string> = {
      'a bucket count that decreases': 'h_bucket{r="a",le="+Inf"} 0',
      'a count that is not the +Inf bucket': 'h_count{r="a"} 3',
      'a duplicate series': 'c_total{x="1"} 2',
      'a line that is not a sample': 'c_total{x="2"}',
    };
    const lines: Record<string, number> = {
      'a bucket count that decreases': 3,
      'a count that is not the +Inf bucket': 4,
      'a duplicate series': 8,
      'a line that is not a sample': 8,
    };
    for (const [what, line] of Object.entries(invalid)) {
      parseWith(kept, body);
      const broken = base.map((x, k) => (k === lines[what] ? line : x)).join('\n');
      expect(parseWith(kept, broken), what).toMatchObject({ kind: 'parse' });
      expect(parseWith(kept, broken)).toEqual(outcome(() => parseExposition(broken, 'openmetrics')));
    }
  });
});

const VALUES = ['0', '1', '2', '7', '2.5', '-1', 'NaN', '+Inf', '1e3', '1.0', 'x'];

/**
 * The next scrape of `lines`: the same series with other values (some invalid for their type), and now
 * and then a change of structure: two lines swapped, a line dropped or repeated, a label value or a
 * TYPE changed.
 */
function nextScrape(rng: () => number, lines: readonly string[]): string[] {
  const next = lines.map((line) => {
    if (line.startsWith('#') || rng() < 0.5) return line;
    const end = line.includes('{') ? line.indexOf('} ') + 1 : line.indexOf(' ');
    const valueEnd = line.indexOf(' ', end + 1);
    const value = VALUES[Math.floor(rng() * VALUES.length)]!;
    return `${line.slice(0, end)} ${value}${valueEnd < 0 ? '' : line.slice(valueEnd)}`;
  });
  const at = Math.floor(rng() * next.length);
  const change = rng();
  if (change < 0.1 && at + 1 < next.length) [next[at], next[at + 1]] = [next[at + 1]!, next[at]!];
  else if (change < 0.2) next.splice(at, 1);
  else if (change < 0.3) next.splice(at, 0, next[at]!);
  else if (change < 0.4) next[at] = next[at]!.replace(/="([^"]*)"/, '="$1z"');
  else if (change < 0.5) next[at] = next[at]!.replace(/^# TYPE (\S+) \S+/, '# TYPE $1 gauge');
  else if (change < 0.6) {
    // Labels for a series that had none (with a blank before them, which text 0.0.4 allows).
    const k = next.findIndex((line) => /^[a-zA-Z_:][a-zA-Z0-9_:]* /.test(line));
    if (k >= 0) next[k] = next[k]!.replace(/ /, rng() < 0.5 ? '{added="1"} ' : ' {added="1"} ');
  }
  return next;
}

// A kept parser takes the labels of a sample whose series text, family and type are those of the same
// sample of the last valid body from there (LineParser's #last): it must parse every next body as a
// fresh parser does, whatever changed.
describe("a kept parser's labels of the last body", () => {
  for (const format of ['openmetrics', 'text'] as const satisfies readonly ExpositionFormat[]) {
    it(`parse each next ${format} body, values and structure changed, as a fresh parser does`, () => {
      const rng = seededRandom(format === 'text' ? 41 : 14);
      const kept = createExpositionParser(format, LIMIT);
      const end = format === 'openmetrics' ? '# EOF\n' : '';
      let failures = 0;
      for (let k = 0; k < 200; k++) {
        let lines = validBody(rng);
        for (let scrape = 0; scrape < 4; scrape++) {
          const body = `${lines.join('\n')}\n${end}`;
          const fresh = outcome(() => parseExposition(body, format, LIMIT));
          const parsed = parseWith(kept, body, 1 + Math.floor(rng() * 400));
          expect(parsed).toEqual(fresh);
          if ((fresh as { kind?: string }).kind !== undefined) failures++;
          else
            expect(renderings((parsed as ParsedExposition).families)).toEqual(
              renderings((fresh as ParsedExposition).families),
            );
          lines = nextScrape(rng, lines);
        }
      }
      // Both valid and invalid next bodies, many of each.
      expect(failures).toBeGreaterThan(50);
      expect(800 - failures).toBeGreaterThan(50);
    });
  }

  it('does not take labels from a text body whose label rules did not all hold, nor from a rewritten series', () => {
    const kept = createExpositionParser('text', LIMIT);
    // A quantile above 1 is valid text 0.0.4 but not OpenMetrics: each body must say so again.
    const summary = '# TYPE s summary\ns{quantile="1.5"} 1\ns_sum 1\ns_count 1\n';
    for (let k = 0; k < 3; k++) {
      const parsed = parseWith(kept, summary) as ParsedExposition;
      expect(parsed.families[0]!.openMetricsProblem).toMatch(/quantile 1.5/);
      expect(parsed).toEqual(parseExposition(summary, 'text', LIMIT));
    }
    // Served with its escape rewritten (`\\t`): the next body's line in that form is a new series text.
    parseWith(kept, 'a{x="\\t"} 1\n');
    const twice = 'a{x="\\\\t"} 1\na{x="\\\\t"} 2\n';
    expect(parseWith(kept, 'a{x="\\t"} 1\n')).toEqual(
      outcome(() => parseExposition('a{x="\\t"} 1\n', 'text')),
    );
    expect(parseWith(kept, twice)).toEqual(outcome(() => parseExposition(twice, 'text', LIMIT)));
    expect(parseWith(kept, twice)).toMatchObject({
      kind: 'parse',
      problem: expect.stringMatching(/duplicate/),
    });
  });

  it('parses labels that a series without labels in the last body has now', () => {
    for (const [format, next] of [
      ['openmetrics', '# TYPE a gauge\na{x="1"} 1\n# EOF\n'],
      ['text', '# TYPE a gauge\na {x="1"} 1\n'],
    ] as const) {
      const kept = createExpositionParser(format, LIMIT);
      parseWith(kept, `# TYPE a gauge\na 1\n${format === 'openmetrics' ? '# EOF\n' : ''}`);
      const parsed = parseWith(kept, next) as ParsedExposition;
      expect(parsed).toEqual(parseExposition(next, format, LIMIT));
      expect(parsed.families[0]!.samples[0]!.text).toBe('a{x="1"} 1');
    }
  });
});
