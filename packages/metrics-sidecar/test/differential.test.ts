import { requireTool, seededRandom } from '@agent-sidecars/shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderOpenMetrics, renderText } from '../src/expose/renderer.js';
import { parseExposition } from '../src/scrape/exposition-parser.js';
import type { ExpositionFormat } from '../src/scrape/snapshot.js';
import { generatedBody, MUTATIONS, validBody } from './body-generator.js';
import { PROMTOOL_PROBE, PYTHON_CLIENT_PROBE } from './harness.js';
import { promtoolParses, StrictOpenMetricsParser, type Verdict } from './reference-parsers.js';

const OPENMETRICS_BODIES = 3000;
const TEXT_BODIES = 200;
/** Rendered bodies also checked by promtool (one process each, so a sample of them). */
const PROMTOOL_RENDERS = 150;

function ours(body: string, format: ExpositionFormat): Verdict {
  try {
    parseExposition(body, format);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

function offendingLine(body: string, error: string | undefined): string {
  const line = /^line (\d+):/.exec(error ?? '')?.[1];
  return line === undefined ? '' : (body.split('\n')[Number(line) - 1] ?? '');
}

/** The body without repeated samples of one series at one timestamp (client_python drops those). */
function withoutRepeats(body: string): string {
  const seen = new Set<string>();
  return body
    .split('\n')
    .filter((line) => {
      if (line.startsWith('#') || line === '') return true;
      const key = seriesAndTimestamp(line);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .join('\n');
}

/** A sample line's series (name and labels as written) and timestamp, without its value. */
function seriesAndTimestamp(line: string): string {
  let end = line.indexOf(' ');
  const open = line.indexOf('{');
  if (open >= 0 && (end < 0 || open < end)) {
    let i = open + 1;
    let quoted = false;
    for (; i < line.length; i++) {
      const c = line[i];
      if (quoted && c === '\\') i++;
      else if (c === '"') quoted = !quoted;
      else if (!quoted && c === '}') break;
    }
    end = i + 1;
  }
  const rest = line.slice(end).trim().split(' ');
  const timestamp = rest[1] !== undefined && rest[1] !== '#' ? rest[1] : '';
  return `${line.slice(0, end)} @${timestamp}`;
}

/**
 * The deliberate differences (README, "Deliberate differences") that explain a disagreement with
 * client_python's parser on an OpenMetrics body, or undefined for one that is a bug.
 */
function openMetricsDifference(body: string, mine: Verdict, reference: Verdict): string | undefined {
  if (!mine.ok && reference.ok && offendingLine(body, mine.error).includes('}\t')) {
    return 'client_python takes any character after "}" as the separator; the ABNF says SP';
  }
  if (!mine.ok && reference.ok && ours(withoutRepeats(body), 'openmetrics').ok) {
    return 'client_python drops a repeated sample of a series at the same timestamp; we reject it';
  }
  if (!mine.ok && reference.ok && ours(withoutRepeats(body.replaceAll('}\t', '} ')), 'openmetrics').ok) {
    return 'both: a repeated sample and a tab after "}"';
  }
  return undefined;
}

/** The same for promtool on a text 0.0.4 body. */
function textDifference(mine: Verdict, reference: Verdict): string | undefined {
  if (mine.ok && /invalid escape sequence/.test(reference.error ?? '')) {
    return "any escaped character in a label value is valid (as Prometheus' scrape parser reads it) and is served re-escaped";
  }
  if (!mine.ok && reference.ok) {
    if (/duplicate series/.test(mine.error!))
      return 'a series twice in one body is rejected; promtool keeps both';
    if (/appeared earlier|does not fit the/.test(mine.error!)) {
      return "a family's lines must be together and fit its type; promtool takes them apart or as they come";
    }
    if (/counts must be >= 0/.test(mine.error!))
      return 'negative histogram counts are rejected; promtool takes them';
  }
  return undefined;
}

function tally(differences: Map<string, number>, reason: string): void {
  differences.set(reason, (differences.get(reason) ?? 0) + 1);
}

describe('differential: generated and mutated bodies against the reference parsers', () => {
  const python = requireTool('python3 with prometheus_client', PYTHON_CLIENT_PROBE);
  const promtool = requireTool('promtool', PROMTOOL_PROBE);

  describe.skipIf(!python.available || !promtool.available)('references', () => {
    let strict: StrictOpenMetricsParser;
    beforeAll(() => {
      strict = new StrictOpenMetricsParser();
    });
    afterAll(() => strict.close());

    it(`agrees with client_python on ${OPENMETRICS_BODIES} OpenMetrics bodies but for the documented differences, and serves only bodies both references accept`, async () => {
      const rng = seededRandom(20261201);
      const differences = new Map<string, number>();
      const unexplained: string[] = [];
      const invalidRenders: string[] = [];
      let accepted = 0;
      let promtoolRenders = 0;
      for (let n = 0; n < OPENMETRICS_BODIES; n++) {
        const { lines, mutations } = generatedBody(rng);
        const body = `${lines.join('\n')}\n# EOF\n`;
        const mine = ours(body, 'openmetrics');
        const reference = await strict.check(body);
        if (mine.ok !== reference.ok) {
          const reason = openMetricsDifference(body, mine, reference);
          if (reason === undefined) {
            unexplained.push(
              `[${mutations.join(', ')}] ours: ${mine.error ?? 'accepted'}; client_python: ${reference.error ?? 'accepted'}\n${body}`,
            );
          } else {
            tally(differences, reason);
          }
        }
        if (!mine.ok) continue;
        accepted++;
        const families = parseExposition(body, 'openmetrics').families;
        const served = await strict.check(renderOpenMetrics(families));
        if (!served.ok) invalidRenders.push(`OpenMetrics rendering: ${served.error}\n${body}`);
        if (promtoolRenders++ < PROMTOOL_RENDERS) {
          const text = promtoolParses(renderText(families));
          if (!text.ok) invalidRenders.push(`text rendering: ${text.error}\n${body}`);
        }
      }
      console.log(
        `differential, OpenMetrics: ${OPENMETRICS_BODIES} bodies, ${accepted} accepted, disagreements: ${JSON.stringify(Object.fromEntries(differences))}, unexplained: ${unexplained.length}`,
      );
      expect(unexplained.slice(0, 3)).toEqual([]);
      expect(invalidRenders.slice(0, 3)).toEqual([]);
    }, 300_000);

    it(`agrees with promtool on ${TEXT_BODIES} text bodies but for the documented differences, and converts every accepted one validly`, async () => {
      const rng = seededRandom(7);
      const differences = new Map<string, number>();
      const unexplained: string[] = [];
      const invalidRenders: string[] = [];
      let accepted = 0;
      for (let n = 0; n < TEXT_BODIES; n++) {
        const valid = `${validBody(rng).join('\n')}\n# EOF\n`;
        const lines = renderText(parseExposition(valid, 'openmetrics').families).split('\n');
        lines.pop();
        const mutations: string[] = [];
        for (let k = 0; k < Math.floor(rng() * 3); k++) {
          const mutation = MUTATIONS[Math.floor(rng() * MUTATIONS.length)]!;
          mutation.apply(rng, lines);
          mutations.push(mutation.name);
        }
        const body = rng() < 0.1 ? lines.join('\n') : `${lines.join('\n')}\n`;
        const mine = ours(body, 'text');
        const reference = promtoolParses(body);
        if (mine.ok !== reference.ok) {
          const reason = textDifference(mine, reference);
          if (reason === undefined) {
            unexplained.push(
              `[${mutations.join(', ')}] ours: ${mine.error ?? 'accepted'}; promtool: ${reference.error ?? 'parses'}\n${body}`,
            );
          } else {
            tally(differences, reason);
          }
        }
        if (!mine.ok) continue;
        accepted++;
        const families = parseExposition(body, 'text').families;
        const text = promtoolParses(renderText(families));
        if (!text.ok) invalidRenders.push(`text rendering: ${text.error}\n${body}`);
        const served = await strict.check(renderOpenMetrics(families));
        if (!served.ok) invalidRenders.push(`OpenMetrics rendering: ${served.error}\n${body}`);
      }
      console.log(
        `differential, text: ${TEXT_BODIES} bodies, ${accepted} accepted, disagreements: ${JSON.stringify(Object.fromEntries(differences))}, unexplained: ${unexplained.length}`,
      );
      expect(unexplained.slice(0, 3)).toEqual([]);
      expect(invalidRenders.slice(0, 3)).toEqual([]);
    }, 300_000);
  });
});
