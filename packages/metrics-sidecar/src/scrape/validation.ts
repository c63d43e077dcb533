import { GroupTable } from './group-table.js';
import type { Fail, LabelLexer } from './label-lexer.js';
import { clip, decimalKind, equalAt, floatOf, plainNumberAt } from './lexing.js';
import type { SampleStore } from './sample-store.js';
import { labelPairs, type MetricType, type Sample, seriesKey } from './snapshot.js';

/** A family while its body is parsed. */
export interface FamilyBuilder {
  /** The name used in the body's TYPE/HELP lines, or the first sample's name when there were none. */
  readonly declaredName: string;
  type: MetricType;
  typeLine: number;
  help: string | undefined;
  unit: string | undefined;
  /** Store index of the family's first sample (its samples are the `count` from there: a family's lines are together). */
  first: number;
  count: number;
  /** The last sample name, shared by the samples that repeat it rather than copied for each. */
  lastName: string;
  /** What `lastName` adds to the family name (`_bucket`), computed once per run of that name. */
  lastSuffix: string;
  /** The series hash's start for `lastName` (its FNV-1a over the name). */
  lastNameHash: number;
  /**
   * The sample names the family's samples have used so far and their suffixes: a name seen before is
   * told by one === (no startsWith, slice or suffix lookup) when samples alternate names, as a histogram's
   * `_bucket`, `_count` and `_sum` do. The type cannot change once a family has samples.
   */
  readonly names: string[];
  readonly nameSuffixes: string[];
  /** The store's ids of `names`, and of `lastName`. */
  readonly nameIds: number[];
  lastNameId: number;
  /** Text 0.0.4 only: why the family, valid text, cannot be served as OpenMetrics (first reason). */
  problem: string | undefined;
  /** `type declaredName` once the family has samples (its type is then fixed); '' before. */
  key: string;
}

/** One MetricPoint being read: a label set's samples at one timestamp. */
interface GroupState {
  hash: number;
  /** Line of the group's first sample: a series repeated in its own group has an earlier line. */
  startLine: number;
  timestampMs: number | undefined;
  // Histograms and gauge histograms.
  buckets: number;
  lastLe: number;
  lastBucket: number;
  infBucket: number | undefined;
  count: number | undefined;
  sum: boolean;
  gsum: boolean;
  negativeLe: boolean;
  negativeGsum: boolean;
}

/** Every suffix a sample name may add to its family's name, in either format. */
export const ALL_SUFFIXES = ['_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info'];

/** The sample-name suffixes each family type uses in OpenMetrics (also what the renderers write). */
export const OPENMETRICS_SUFFIXES: Readonly<Record<MetricType, readonly string[]>> = {
  counter: ['_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  summary: ['', '_count', '_sum', '_created'],
  info: ['_info'],
  stateset: [''],
  unknown: [''],
};

/** Types whose groups hold several series (their own labels minus `le`, `quantile` or the state). */
const GROUPED: ReadonlySet<MetricType> = new Set([
  'counter',
  'histogram',
  'gaugehistogram',
  'summary',
  'stateset',
]);

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

/**
 * What the OpenMetrics 1.0 specification requires of samples, label sets (groups), points and families.
 * In OpenMetrics a violation fails the body. Text 0.0.4 has fewer rules: what it allows but OpenMetrics
 * does not (a non-integer bucket count, a NaN counter, a bucket without +Inf, ...) is recorded as the
 * family's `problem`, and that family is served in text only, never as invalid OpenMetrics.
 */
export class SampleValidator {
  readonly #om: boolean;
  readonly #labels: LabelLexer;
  readonly #fail: Fail;
  readonly #lineNo: () => number;
  readonly #groups = new GroupTable();
  /**
   * The current family's current group (OpenMetrics Metric) and point (its samples at one timestamp),
   * when `#inGroup`: one object for every family and body, so that its shape, and the optimised code
   * that reads it, never change.
   */
  readonly #group: GroupState = newGroup();
  #inGroup = false;
  /** Sample names the finished families own in OpenMetrics, to find clashes (`a_created` vs counter `a`). */
  readonly #claimed = new Map<string, string>();
  /** The value of the sample being checked, as a number, and the hash of its group. */
  #value = 0;
  #le = 0;
  /** The value of the label #requireNumericLabel found (NaN when it is missing or NaN). */
  #labelValue = 0;
  #groupHash = 0;
  /** The store of the body being parsed. */
  #store: SampleStore | undefined;
  /** What `sameGroup` needs, one object for every call. */
  readonly #same: SameContext = { store: undefined, family: undefined };

  constructor(om: boolean, labels: LabelLexer, fail: Fail, lineNo: () => number) {
    this.#om = om;
    this.#labels = labels;
    this.#fail = fail;
    this.#lineNo = lineNo;
  }

  /**
   * Forgets the last body, and drops every reference into it so that a kept validator does not hold it
   * alive: the next one starts.
   */
  reset(): void {
    this.#inGroup = false;
    this.#groups.release();
    this.#claimed.clear();
    this.#store = undefined;
    this.#same.store = undefined;
    this.#same.family = undefined;
  }

  /** The next body's samples go to `store`. */
  begin(store: SampleStore): void {
    this.#store = store;
    this.#same.store = store;
  }

  /** A rule OpenMetrics has and text 0.0.4 does not. */
  #problem(family: FamilyBuilder, problem: string): void {
    if (this.#om) this.#fail(problem);
    family.problem ??= `line ${this.#lineNo()}: ${problem}`;
  }

  /**
   * Value and label rules of one sample, before its exemplar's labels overwrite the lexer's. `value` is
   * the sample's value as served, as a number (the parser read it once while checking the token); the
   * line's labels are the lexer's last `labelCount`.
   */
  check(family: FamilyBuilder, name: string, line: string, value: number, labelCount: number): void {
    // A stateset's value is checked before its labels (the first error is the one reported).
    if (family.type === 'stateset' && value !== 0 && value !== 1)
      this.#fail(`stateset sample ${name} has value ${value}; use 0 or 1`);
    this.#checkLabels(family, name, line, labelCount);
    this.checkValue(family, name, value);
  }

  /**
   * What `check` made of the labels of the last sample checked: its group's hash and its `le` (of a
   * bucket). The parser keeps them for the same series text on the same line of the next body.
   */
  get groupHash(): number {
    return this.#groupHash;
  }

  get le(): number {
    return this.#le;
  }

  /**
   * `check` for a sample whose series text, family name and type are those of a sample of the last valid
   * body: the label rules held for that text then and hold now, so only what they gave is restored
   * (`groupHash`, `le`), and the value rules run.
   */
  checkWithLabelsOf(family: FamilyBuilder, name: string, value: number, groupHash: number, le: number): void {
    this.#groupHash = groupHash;
    this.#le = le;
    this.checkValue(family, name, value);
  }

  /** The label rules of `check`: sets the group's hash and a bucket's `le`. */
  #checkLabels(family: FamilyBuilder, name: string, line: string, labelCount: number): void {
    const suffix = family.lastSuffix;
    const labels = this.#labels;
    // The lexer keeps the last set it scanned: a sample without labels has the empty set's hash, 0.
    let groupHash = labelCount === 0 ? 0 : labels.hash;
    switch (family.type) {
      case 'histogram':
      case 'gaugehistogram':
        if (suffix === '_bucket') {
          const k = this.#requireNumericLabel(family, line, 'le', labelCount, name);
          if (k >= 0) groupHash = (groupHash - labels.hashes[k]!) | 0;
          this.#le = this.#labelValue;
        }
        break;
      case 'summary':
        if (suffix === '') {
          const k = this.#requireNumericLabel(family, line, 'quantile', labelCount, name);
          if (k >= 0) groupHash = (groupHash - labels.hashes[k]!) | 0;
          const quantile = k < 0 ? 0 : this.#labelValue;
          if (!(quantile >= 0 && quantile <= 1)) {
            this.#problem(family, `${name} has quantile ${quantile}; quantiles must be between 0 and 1`);
          }
        }
        break;
      case 'stateset': {
        const k = labels.indexOf(line, family.declaredName, labelCount);
        if (k < 0) this.#fail(`stateset sample ${name} has no label named ${family.declaredName}`);
        groupHash = (groupHash - labels.hashes[k]!) | 0;
        break;
      }
      default:
        break;
    }
    this.#groupHash = groupHash;
  }

  /** The value rules of `check`, after its label rules. */
  checkValue(family: FamilyBuilder, name: string, value: number): void {
    const suffix = family.lastSuffix;
    const type = family.type;
    if (type === 'gauge' || type === 'unknown') return;
    this.#value = value;
    switch (type) {
      case 'histogram':
      case 'gaugehistogram':
        if (suffix === '_bucket') {
          if (value < 0) this.#fail(`${name} is ${value}; bucket counts must be >= 0`);
          this.#counterLike(family, name, value, true);
        } else if (suffix === '_count' || suffix === '_gcount') {
          if (!this.#om && value < 0) this.#fail(`${name} is ${value}; counts must be >= 0`);
          this.#counterLike(family, name, value, true);
        } else if (suffix === '_sum') {
          this.#counterLike(family, name, value, false);
        } else if (suffix === '_gsum' && Number.isNaN(value)) {
          this.#problem(family, `${name} is NaN; a gauge histogram's _gsum must be a number`);
        }
        break;
      case 'summary':
        if (suffix === '') {
          if (value < 0) this.#problem(family, `${name} is ${value}; quantile values must not be negative`);
        } else if (suffix === '_count') {
          this.#counterLike(family, name, value, true);
        } else if (suffix === '_sum') {
          this.#counterLike(family, name, value, false);
        }
        break;
      case 'counter':
        // A text 0.0.4 counter family is named after its samples (`x_total`): no suffix there.
        if (suffix === '_total' || (!this.#om && suffix === ''))
          this.#counterLike(family, name, value, false);
        break;
      case 'stateset':
        if (value !== 0 && value !== 1) this.#fail(`stateset sample ${name} has value ${value}; use 0 or 1`);
        break;
      case 'info':
        if (value !== 1) this.#fail(`info sample ${name} has value ${value}; it must be 1`);
        break;
      default:
        break;
    }
  }

  /** Counters, counts, sums and buckets: not NaN, not negative, counts and buckets integers. */
  #counterLike(family: FamilyBuilder, name: string, value: number, integer: boolean): void {
    if (Number.isNaN(value))
      this.#problem(family, `${name} is NaN; it must be a number >= 0 (a counter, count, sum or bucket)`);
    else if (value < 0)
      this.#problem(
        family,
        `${name} is ${value}; it must be a number >= 0 (a counter, count, sum or bucket)`,
      );
    else if (integer && !Number.isInteger(value) && value !== Number.POSITIVE_INFINITY) {
      this.#problem(family, `${name} is ${value}; bucket and count values must be integers`);
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

  /**
   * Group and point rules for the sample just made (after `check`): a label set's samples together and
   * in time order, and each histogram point complete and consistent.
   */
  point(family: FamilyBuilder, sample: number): void {
    const type = family.type;
    if (
      type === 'histogram' ||
      type === 'gaugehistogram' ||
      type === 'counter' ||
      type === 'summary' ||
      type === 'stateset'
    ) {
      this.#groupPoint(family, sample);
      return;
    }
    // A gauge's, unknown's or info's label set is one series: `repeated` is all it needs, but for info:
    // client_python reads all of an info family's samples as one group, so that a body it accepts can be
    // served, timestamps are all present or all absent in an info family.
    if (type === 'info' && family.count > 0) {
      const store = this.#store!;
      if ((store.timestampMs(family.first) === undefined) !== (store.timestampMs(sample) === undefined)) {
        this.#problem(
          family,
          `${store.series(sample)} mixes samples with and without timestamps in one info family`,
        );
      }
    }
  }

  /** `point` for the types whose label sets hold several series. */
  #groupPoint(family: FamilyBuilder, sample: number): void {
    const hash = this.#groupHash;
    const group = this.#group;
    const store = this.#store!;
    const ts = store.timestampMs(sample);
    // Adjacent samples with the same group hash are taken to be one group without comparing their labels
    // (per sample, that would cost more than the rest of the parse); only a group seen before is compared.
    if (!this.#inGroup || group.hash !== hash) {
      if (this.#inGroup) {
        this.#endPoint(family, group);
        this.#same.family = family;
        const earlier = this.#groups.seen(hash, sample, sameGroup, this.#same);
        if (earlier >= 0) {
          this.#problem(
            family,
            `${store.series(sample)} belongs to the label set of line ${store.line(earlier)}, which another label set followed; a label set's samples must be together`,
          );
        }
      } else {
        this.#same.family = family;
        this.#groups.seen(hash, sample, sameGroup, this.#same);
      }
      startGroup(group, hash, store.line(sample), ts);
      this.#inGroup = true;
    } else {
      if ((ts === undefined) !== (group.timestampMs === undefined)) {
        this.#problem(
          family,
          `${store.series(sample)} mixes samples with and without timestamps in one label set`,
        );
      } else if (ts !== undefined && ts !== group.timestampMs) {
        if (ts < group.timestampMs! && family.type !== 'info') {
          this.#problem(
            family,
            `${store.series(sample)} has a timestamp before the previous one of its label set`,
          );
        }
        this.#endPoint(family, group);
        resetPoint(group);
      }
      group.timestampMs = ts;
    }
    if (family.type === 'histogram' || family.type === 'gaugehistogram')
      this.#histogramSample(family, group, sample);
  }

  /** A series seen before: valid only again in its own label set with a later timestamp. */
  repeated(family: FamilyBuilder, sample: number, earlier: number): boolean {
    const store = this.#store!;
    const inGroup = GROUPED.has(family.type)
      ? this.#inGroup && store.line(earlier) >= this.#group.startLine
      : family.count > 0 && family.first + family.count - 1 === earlier;
    const ts = store.timestampMs(sample);
    const earlierTs = store.timestampMs(earlier);
    return inGroup && ts !== undefined && earlierTs !== undefined && ts > earlierTs;
  }

  #histogramSample(family: FamilyBuilder, group: GroupState, sample: number): void {
    const suffix = family.lastSuffix;
    const value = this.#value;
    if (suffix === '_bucket') {
      const le = this.#le;
      if (le <= group.lastLe)
        this.#problem(family, `${this.#store!.series(sample)}: buckets must be in increasing order of le`);
      if (value < group.lastBucket)
        this.#problem(family, `${this.#store!.series(sample)}: bucket counts must not decrease`);
      if (le < 0) group.negativeLe = true;
      if (le === Number.POSITIVE_INFINITY) group.infBucket = value;
      group.lastLe = le;
      group.lastBucket = value;
      group.buckets++;
    } else if (suffix === '_count' || suffix === '_gcount') {
      group.count = value;
    } else if (suffix === '_sum') {
      group.sum = true;
    } else if (suffix === '_gsum') {
      group.gsum = true;
      if (value < 0) group.negativeGsum = true;
    }
  }

  #endPoint(family: FamilyBuilder, group: GroupState): void {
    if (family.type !== 'histogram' && family.type !== 'gaugehistogram') return;
    const count = family.type === 'histogram' ? '_count' : '_gcount';
    const sum = family.type === 'histogram' ? '_sum' : '_gsum';
    if (group.infBucket === undefined || group.lastLe !== Number.POSITIVE_INFINITY) {
      this.#problem(family, `${whereOf(family, group)} has no le="+Inf" bucket`);
    } else if (group.count !== undefined && group.count !== group.infBucket) {
      this.#problem(
        family,
        `${whereOf(family, group)}: ${count} ${group.count} is not the +Inf bucket's ${group.infBucket}`,
      );
    }
    if ((group.sum || group.gsum) !== (group.count !== undefined)) {
      this.#problem(
        family,
        `${whereOf(family, group)} has ${group.count === undefined ? `${sum} without ${count}` : `${count} without ${sum}`}; both or neither`,
      );
    }
    if (group.negativeLe && group.sum)
      this.#problem(
        family,
        `${whereOf(family, group)} has negative buckets and a _sum; a _sum needs buckets >= 0`,
      );
    if (!group.negativeLe && group.negativeGsum) {
      this.#problem(family, `${whereOf(family, group)} has a negative _gsum without negative buckets`);
    }
  }

  /**
   * The family is complete: its last point, UNIT only where allowed, and no sample name it owns in
   * OpenMetrics owned by another family. `omName` is its OpenMetrics name.
   */
  endFamily(family: FamilyBuilder): void {
    if (this.#inGroup) this.#endPoint(family, this.#group);
    this.#inGroup = false;
    this.#groups.reset();
    if (family.unit && (family.type === 'info' || family.type === 'stateset')) {
      this.#fail(
        `UNIT line for the ${family.type} ${family.declaredName}; ${family.type} families have no unit`,
      );
    }
  }

  /**
   * Claims the sample names the family owns in OpenMetrics, served as `type` under `omName`: one another
   * family owns already is a clash (`a_created` next to counter `a`). `createdFolded`: its `_created`
   * samples come from a text gauge family of that name, which is no clash.
   */
  claim(family: FamilyBuilder, omName: string, type: MetricType, createdFolded: boolean): void {
    const suffixes = OPENMETRICS_SUFFIXES[type];
    for (const suffix of suffixes.includes('') ? suffixes : ['', ...suffixes]) {
      if (suffix === '_created' && createdFolded) continue;
      const name = omName + suffix;
      const owner = this.#claimed.get(name);
      if (owner !== undefined) {
        this.#problem(
          family,
          `the ${type} ${omName} owns the sample name ${name}, which the family ${owner} has`,
        );
        return;
      }
    }
    for (const suffix of suffixes) this.#claimed.set(omName + suffix, omName);
    this.#claimed.set(omName, omName);
  }

  #requireNumericLabel(
    family: FamilyBuilder,
    line: string,
    label: string,
    labelCount: number,
    name: string,
  ): number {
    const labels = this.#labels;
    const k = labels.indexOf(line, label, labelCount);
    if (k < 0) {
      this.#labelValue = Number.NaN;
      // Text 0.0.4 parsers take such a sample; it has no meaning in OpenMetrics.
      this.#problem(family, `${name} has no ${label} label`);
      return k;
    }
    const start = labels.spans[k * 4 + 2]!;
    const end = labels.spans[k * 4 + 3]!;
    const plain = plainNumberAt(line, start, end);
    this.#labelValue = plain;
    if (!Number.isNaN(plain)) return k;
    // The +Inf bucket, once per histogram point: told without a slice and floatOf's regular expressions.
    if (end - start === 4 && equalAt(line, start, '+Inf')) {
      this.#labelValue = Number.POSITIVE_INFINITY;
      return k;
    }
    const raw = line.slice(start, end);
    this.#labelValue = floatOf(raw);
    if (/^nan$/i.test(raw)) {
      this.#problem(family, `${name} has ${label}="${raw}"; ${label} must not be NaN`);
      return k;
    }
    if (decimalKind(line, start, end) === 0 && !/^[+-]?(inf|infinity)$/i.test(raw)) {
      this.#fail(`${name} has ${label}="${clip(raw)}"; ${label} must be a float`);
    }
    if (floatOf(raw) === Number.POSITIVE_INFINITY) {
      // OpenMetrics' canonical numbers: positive infinity is written +Inf and nothing else.
      this.#problem(family, `${name} has ${label}="${clip(raw)}"; write +Inf`);
    }
    return k;
  }
}

/** Names a label set in messages (built only for a message: once per histogram point otherwise). */
function whereOf(family: FamilyBuilder, group: GroupState): string {
  return `${family.declaredName} (label set of line ${group.startLine})`;
}

function newGroup(): GroupState {
  return {
    hash: 0,
    startLine: 0,
    timestampMs: undefined,
    buckets: 0,
    lastLe: Number.NEGATIVE_INFINITY,
    lastBucket: 0,
    infBucket: undefined,
    count: undefined,
    sum: false,
    gsum: false,
    negativeLe: false,
    negativeGsum: false,
  };
}

function startGroup(group: GroupState, hash: number, line: number, timestampMs: number | undefined): void {
  group.hash = hash;
  group.startLine = line;
  group.timestampMs = timestampMs;
  resetPoint(group);
}

function resetPoint(group: GroupState): void {
  group.buckets = 0;
  group.lastLe = Number.NEGATIVE_INFINITY;
  group.lastBucket = 0;
  group.infBucket = undefined;
  group.count = undefined;
  group.sum = false;
  group.gsum = false;
  group.negativeLe = false;
  group.negativeGsum = false;
}

/** The label that is not part of a sample's group: `le` of buckets, `quantile`, a stateset's state. */
function excludedLabel(family: FamilyBuilder, sample: Sample): string | undefined {
  const suffix = sample.name.slice(family.declaredName.length);
  if (suffix === '_bucket' && (family.type === 'histogram' || family.type === 'gaugehistogram')) return 'le';
  if (suffix === '' && family.type === 'summary') return 'quantile';
  if (family.type === 'stateset') return family.declaredName;
  return undefined;
}

/** A sample's group: its labels, sorted, without the excluded one. */
function groupKey(family: FamilyBuilder, sample: Sample): string {
  const excluded = excludedLabel(family, sample);
  const pairs = labelPairs(seriesKey(sample.text.slice(0, sample.seriesLength)));
  return (excluded === undefined ? pairs : pairs.filter((pair) => !pair.startsWith(`${excluded}="`))).join(
    ',',
  );
}

interface SameContext {
  store: SampleStore | undefined;
  family: FamilyBuilder | undefined;
}

/** Whether two samples (store indexes) of a family belong to one group (only when their hashes are equal). */
function sameGroup(earlier: number, sample: number, context: SameContext): boolean {
  if (earlier === sample) return true;
  const store = context.store!;
  return sameGroupOf(store.sampleAt(earlier), store.sampleAt(sample), context.family!);
}

/** Whether two samples of a family belong to one group; the cheap case first (the same labels text). */
function sameGroupOf(a: Sample, b: Sample, family: FamilyBuilder): boolean {
  const aLabels = a.text.slice(a.name.length, a.seriesLength);
  const bLabels = b.text.slice(b.name.length, b.seriesLength);
  if (aLabels === bLabels && excludedLabel(family, a) === undefined && excludedLabel(family, b) === undefined)
    return true;
  return groupKey(family, a) === groupKey(family, b);
}
