import { seededRandom } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { generatedBody } from '../../test/body-generator.js';
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
