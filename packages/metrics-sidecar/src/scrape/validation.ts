import type { Fail, LabelLexer } from './label-lexer.js';
import { clip, decimalKind } from './lexing.js';
import type { MetricType, Sample } from './snapshot.js';

/** A family while its body is parsed. */
export interface FamilyBuilder {
  /** The name used in the body's TYPE/HELP lines, or the first sample's name when there were none. */
  readonly declaredName: string;
  type: MetricType;
  typeLine: number;
  help: string | undefined;
  unit: string | undefined;
  readonly samples: Sample[];
  /** The last sample name, shared by the samples that repeat it rather than copied for each. */
  lastName: string;
  /** What `lastName` adds to the family name (`_bucket`), computed once per run of that name. */
  lastSuffix: string;
}

/** Every suffix a sample name may add to its family's name, in either format. */
export const ALL_SUFFIXES = ['_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info'];

/** Whether `name` is a sample name of `family` given the suffixes its type allows. */
export function fits(
  family: FamilyBuilder,
  name: string,
  suffixes: Readonly<Record<MetricType, readonly string[]>>,
): boolean {
  const base = family.declaredName;
  if (!name.startsWith(base)) return false;
  const suffix = name.length === base.length ? '' : name.slice(base.length);
  return suffixes[family.type].includes(suffix);
}

/** What the specs require of one sample given its family's type; `om` adds OpenMetrics' own rules. */
export class SampleValidator {
  readonly #om: boolean;
  readonly #labels: LabelLexer;
  readonly #fail: Fail;

  constructor(om: boolean, labels: LabelLexer, fail: Fail) {
    this.#om = om;
    this.#labels = labels;
    this.#fail = fail;
  }

  /**
   * The value is `rewritten`, or when that is undefined the scraped token at line[valueStart, valueEnd)
   * (`decimal` if it is a decimal number, not NaN or an infinity), sliced only for the checks that read
   * it. The line's labels are the lexer's last `labelCount`.
   */
  check(
    family: FamilyBuilder,
    name: string,
    line: string,
    rewritten: string | undefined,
    decimal: boolean,
    valueStart: number,
    valueEnd: number,
    labelCount: number,
  ): void {
    const om = this.#om;
    const suffix = family.lastSuffix;
    // A decimal served as scraped and not starting with "-" is >= 0 ("-0" goes the slow way and passes).
    const nonNegative = decimal && rewritten === undefined && line.charCodeAt(valueStart) !== 45;
    switch (family.type) {
      case 'histogram':
      case 'gaugehistogram':
        if (suffix === '_bucket') this.#requireNumericLabel(line, 'le', labelCount, name);
        else if (om && !nonNegative && (suffix === '_count' || suffix === '_gcount'))
          this.#requireNonNegative(name, line, rewritten, valueStart, valueEnd);
        return;
      case 'summary':
        if (suffix === '') this.#requireNumericLabel(line, 'quantile', labelCount, name);
        else if (om && !nonNegative && suffix === '_count')
          this.#requireNonNegative(name, line, rewritten, valueStart, valueEnd);
        return;
      case 'counter':
        if (om && !nonNegative && suffix === '_total')
          this.#requireNonNegative(name, line, rewritten, valueStart, valueEnd);
        return;
      case 'stateset': {
        const text = rewritten ?? line.slice(valueStart, valueEnd);
        if (text !== '0' && text !== '1' && Number(text) !== 0 && Number(text) !== 1) {
          this.#fail(`stateset sample ${name} has value ${text}; use 0 or 1`);
        }
        if (this.#labels.indexOf(line, family.declaredName, labelCount) < 0)
          this.#fail(`stateset sample ${name} has no label named ${family.declaredName}`);
        return;
      }
      case 'info': {
        const text = rewritten ?? line.slice(valueStart, valueEnd);
        if (Number(text) !== 1) this.#fail(`info sample ${name} has value ${text}; it must be 1`);
        return;
      }
      default:
        return;
    }
  }

  /** Exemplars go only on counters' `_total` and histogram buckets. */
  checkExemplar(family: FamilyBuilder, name: string): void {
    const suffix = name.slice(family.declaredName.length);
    const allowed =
      (family.type === 'counter' && suffix === '_total') ||
      ((family.type === 'histogram' || family.type === 'gaugehistogram') && suffix === '_bucket');
    if (!allowed) {
      this.#fail(
        `exemplar on ${name}; OpenMetrics allows exemplars only on counters' _total and histogram buckets`,
      );
    }
  }

  #requireNonNegative(
    name: string,
    line: string,
    rewritten: string | undefined,
    start: number,
    end: number,
  ): void {
    const value = rewritten ?? line.slice(start, end);
    const number = Number(value);
    if (!(number >= 0)) this.#fail(`${name} is ${value}; it must be a number >= 0`);
  }

  #requireNumericLabel(line: string, label: string, labelCount: number, name: string): void {
    const labels = this.#labels;
    const k = labels.indexOf(line, label, labelCount);
    if (k < 0) this.#fail(`${name} has no ${label} label`);
    const start = labels.spans[k * 4 + 2]!;
    const end = labels.spans[k * 4 + 3]!;
    if (decimalKind(line, start, end) !== 0) return;
    const raw = line.slice(start, end);
    if (!/^[+-]?(inf|infinity|nan)$/i.test(raw)) {
      this.#fail(`${name} has ${label}="${clip(raw)}"; ${label} must be a float`);
    }
  }
}
