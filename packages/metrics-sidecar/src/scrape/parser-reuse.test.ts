import { seededRandom } from '@agent-sidecars/shared/testing';
import { describe, expect, it } from 'vitest';
import { generatedBody } from '../../test/body-generator.js';
import { createExpositionParser, type ExpositionParser, parseExposition } from './exposition-parser.js';
import type { ExpositionFormat } from './snapshot.js';

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
