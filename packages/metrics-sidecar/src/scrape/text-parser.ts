import type { ExpositionParserOptions } from './exposition-parser.js';
import { clip, INTEGER } from './lexing.js';
import { LineParser } from './line-parser.js';
import { parsedFamily } from './sample-store.js';
import type { MetricFamily, MetricType } from './snapshot.js';
import type { FamilyBuilder } from './validation.js';

const TEXT_TYPES: Readonly<Record<string, MetricType>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'unknown',
};

/** Sample-name suffixes each type allows after the family name in text 0.0.4. */
const TEXT_SUFFIXES: Readonly<Record<MetricType, readonly string[]>> = {
  counter: [''],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count'],
  gaugehistogram: [],
  summary: ['', '_sum', '_count'],
  info: [],
  stateset: [],
  unknown: [''],
};

/**
 * Prometheus text format 0.0.4 (Prometheus' `textparse.PromParser`): leading blanks, blank lines and
 * free comments are allowed, tokens are separated by runs of blanks, timestamps are whole milliseconds,
 * and a counter family is named after its samples (`x_total`), renamed here as OpenMetrics names it.
 */
export class TextParser extends LineParser {
  protected readonly format = 'text';
  protected readonly strictSpacing = false;
  protected readonly types = TEXT_TYPES;
  protected readonly suffixes = TEXT_SUFFIXES;

  constructor(options: ExpositionParserOptions) {
    super(false, options);
  }

  protected line(line: string, terminated: boolean): void {
    // As Prometheus' text parser: a body ends with a newline (a cut-off body must not pass for whole).
    if (!terminated) this.fail('the body does not end with a newline; text 0.0.4 lines end with "\\n"');
    let start = 0;
    while (start < line.length && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
    if (start === line.length) return;
    if (start > 0) {
      line = line.slice(start);
      this.lineOffset += start;
    }
    if (line.charCodeAt(0) === 35 /* # */) {
      const match = /^#[ \t]+(HELP|TYPE)[ \t]+([^ \t]+)(?:[ \t](.*))?$/.exec(line);
      // Any other comment is free text in 0.0.4.
      if (match) this.metadata(match[1]!, match[2]!, match[3]);
      return;
    }
    this.sample(line);
  }

  protected resetFormat(): void {}

  protected endOfBody(): void {}

  protected metadataAfterSamples(keyword: string): boolean {
    return keyword === 'TYPE';
  }

  protected separator(line: string, i: number): boolean {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
    let j = i + 1;
    while (j < line.length && (line.charCodeAt(j) === 32 || line.charCodeAt(j) === 9)) j++;
    this.separatorEnd = j;
    return true;
  }

  protected timestamp(token: string): number {
    if (!INTEGER.test(token)) {
      this.fail(
        `"${clip(token)}" is not a timestamp; use whole milliseconds since the epoch, e.g. 1700000000123`,
      );
    }
    return this.checkTimestamp(Number(token), token);
  }

  /** Text 0.0.4 allows blanks between the metric name and `{`. */
  protected override beforeLabels(line: string, i: number): number {
    let j = i;
    while (line.charCodeAt(j) === 32 || line.charCodeAt(j) === 9) j++;
    return line.charCodeAt(j) === 123 ? j : i;
  }

  protected trailer(line: string, i: number, _family: FamilyBuilder, _name: string): string {
    this.fail(
      `unexpected text "${clip(line.slice(i))}" after the value of ${clip(line.slice(0, i).trimEnd())}`,
    );
  }

  protected finish(): MetricFamily[] {
    const store = this.store;
    const declared = this.byName;
    const named = this.families.map((family) => {
      let name = family.declaredName;
      let legacyCounter = false;
      if (family.type === 'counter') {
        // Text 0.0.4 names a counter after its samples; OpenMetrics names the family without `_total`.
        const base = name.endsWith('_total') ? name.slice(0, -6) : '';
        if (base !== '' && !declared.has(base)) name = base;
        else legacyCounter = true;
      }
      return { family, name, legacyCounter };
    });
    const byOmName = new Map(named.map((entry) => [entry.name, entry.family]));
    return named.map(({ family, name, legacyCounter }) => {
      // A `<name>_created` gauge is folded into the family when merged (expose/created-folding.ts).
      const created = byOmName.get(`${name}_created`);
      const folded = created !== undefined && (created.type === 'gauge' || created.type === 'unknown');
      this.validator.claim(family, name, legacyCounter ? 'unknown' : family.type, folded);
      return parsedFamily(
        {
          name,
          type: family.type,
          help: family.help,
          unit: family.unit || undefined,
          legacyCounter,
          openMetricsProblem: family.problem,
        },
        { store, first: family.first, count: family.count },
      );
    });
  }
}
