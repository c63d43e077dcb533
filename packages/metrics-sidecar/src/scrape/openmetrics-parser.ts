import type { ExpositionParserOptions } from './exposition-parser.js';
import { clip, DECIMAL } from './lexing.js';
import { LineParser } from './line-parser.js';
import { parsedFamily } from './sample-store.js';
import type { MetricFamily, MetricType } from './snapshot.js';
import type { FamilyBuilder } from './validation.js';
import { OPENMETRICS_SUFFIXES } from './validation.js';

const OPENMETRICS_TYPES: Readonly<Record<string, MetricType>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  gaugehistogram: 'gaugehistogram',
  summary: 'summary',
  info: 'info',
  stateset: 'stateset',
  unknown: 'unknown',
};

export { OPENMETRICS_SUFFIXES };

/**
 * OpenMetrics 1.0 text (Prometheus' `textparse.OpenMetricsParser`): exactly one space between tokens,
 * no blank lines, no comments but HELP, TYPE and UNIT, timestamps in seconds, exemplars, and exactly one
 * `# EOF` as the last line.
 */
export class OpenMetricsParser extends LineParser {
  protected readonly format = 'openmetrics';
  protected readonly strictSpacing = true;
  protected readonly types = OPENMETRICS_TYPES;
  protected readonly suffixes = OPENMETRICS_SUFFIXES;
  #eof = false;

  constructor(options: ExpositionParserOptions) {
    super(true, options);
  }

  protected line(line: string, terminated: boolean): void {
    if (this.#eof) this.fail('content after "# EOF"; it must be the last line');
    if (line === '') this.fail('blank line; OpenMetrics allows none');
    if (line.charCodeAt(0) === 35 /* # */) {
      this.#comment(line, terminated);
      return;
    }
    if (!terminated) this.fail('the last line is not "# EOF"');
    this.sample(line);
  }

  #comment(line: string, terminated: boolean): void {
    if (line === '# EOF') {
      this.#eof = true;
      return;
    }
    if (!terminated && !line.startsWith('# EOF')) this.fail('the last line is not "# EOF"');
    // Exactly `# KEYWORD name value`: one space each, and the one before the value even when it is empty.
    const match = /^# (HELP|TYPE|UNIT) ([^ ]+) (.*)$/.exec(line);
    if (!match) {
      if (/^# (HELP|TYPE|UNIT) [^ ]+$/.test(line)) {
        this.fail(
          `"${clip(line)}" has no space after the name; write "# HELP name text", "# UNIT name " for none`,
        );
      }
      this.fail(
        `"${clip(line)}" is not a HELP, TYPE or UNIT line or "# EOF"; OpenMetrics allows no other comments`,
      );
    }
    this.metadata(match[1]!, match[2]!, match[3]);
  }

  protected resetFormat(): void {
    this.#eof = false;
  }

  protected endOfBody(): void {
    if (!this.#eof) this.fail('the OpenMetrics body does not end with "# EOF"');
  }

  protected metadataAfterSamples(): boolean {
    return true;
  }

  protected separator(line: string, i: number): boolean {
    if (line.charCodeAt(i) !== 32) return false;
    this.separatorEnd = i + 1;
    return true;
  }

  protected timestamp(token: string): number {
    if (!DECIMAL.test(token)) {
      this.fail(`"${clip(token)}" is not a timestamp; use seconds since the epoch, e.g. 1700000000.123`);
    }
    return this.checkTimestamp(Number(token) * 1000, token);
  }

  protected trailer(line: string, start: number, family: FamilyBuilder, name: string): string {
    if (!line.startsWith('# {', start)) {
      this.fail(
        `unexpected text "${clip(line.slice(start))}"; an exemplar reads # {labels} value [timestamp]`,
      );
    }
    this.validator.checkExemplar(family, name);
    const labels = this.labels;
    labels.scan(line, start + 2, true);
    let i = labels.end;
    const labelsText = line.slice(start + 2, i);
    if (line.charCodeAt(i) !== 32) this.fail('expected a space and a value after the exemplar labels');
    i++;
    let end = line.indexOf(' ', i);
    if (end === -1) end = line.length;
    const value = this.value(line.slice(i, end), 'exemplar value');
    let text = ` # ${labelsText} ${value}`;
    if (end < line.length) {
      const ts = line.slice(end + 1);
      if (!DECIMAL.test(ts))
        this.fail(`"${clip(ts)}" is not an exemplar timestamp; use seconds, e.g. 1700000000.5`);
      text += ` ${ts}`;
    }
    return text;
  }

  protected finish(): MetricFamily[] {
    const store = this.store;
    return this.families.map((family) => {
      this.validator.claim(family, family.declaredName, family.type, false);
      return parsedFamily(
        {
          name: family.declaredName,
          type: family.type,
          help: family.help,
          unit: family.unit || undefined,
          legacyCounter: false,
        },
        { store, first: family.first, count: family.count },
      );
    });
  }
}
