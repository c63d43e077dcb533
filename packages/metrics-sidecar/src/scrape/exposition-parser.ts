import {
  type ExpositionFormat,
  type MetricFamily,
  type MetricType,
  type Sample,
  seriesKey,
  seriesOf,
} from './snapshot.js';

export type ExpositionErrorKind = 'parse' | 'sample_limit';

/** A body the sidecar refuses to serve, with the 1-based line that made it so (0: the body as a whole). */
export class ExpositionError extends Error {
  override readonly name = 'ExpositionError';
  constructor(
    readonly kind: ExpositionErrorKind,
    readonly line: number,
    readonly problem: string,
  ) {
    super(line > 0 ? `line ${line}: ${problem}` : problem);
  }
}

export interface ExpositionParserOptions {
  /** More samples than this fail the body with kind `sample_limit`. */
  readonly sampleLimit: number;
  /** About how many samples to expect (the previous scrape's count): sizes the series table once. */
  readonly expectedSamples?: number;
}

export interface ParsedExposition {
  readonly format: ExpositionFormat;
  readonly families: readonly MetricFamily[];
  readonly sampleCount: number;
}

interface FamilyBuilder {
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

const TEXT_TYPES: Readonly<Record<string, MetricType>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'unknown',
};
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

/** Sample-name suffixes each type allows after the family name, per format. */
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
const ALL_SUFFIXES = ['_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info'];

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^-?\d+$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const VALUE_HINT = 'use a float such as 1, -2.5, 1e3, +Inf, -Inf or NaN';
const EXEMPLAR_LABELS_MAX = 128;

/**
 * A streaming parser for Prometheus text 0.0.4 and OpenMetrics 1.0: feed it decoded text as it arrives
 * with `push`, then call `end`. It keeps families with their TYPE, HELP and UNIT, every sample (and
 * exemplars where OpenMetrics allows them) and throws ExpositionError, naming the line, for anything the
 * specs reject: a second TYPE/HELP/UNIT, metadata after samples, a duplicate series, a bad name, label,
 * escape, value or timestamp, a family split into two runs, a sample that does not fit its family's type,
 * and, for OpenMetrics, blank lines, other comments, a missing `# EOF` or anything after it.
 */
export class ExpositionParser {
  readonly #format: ExpositionFormat;
  readonly #om: boolean;
  readonly #sampleLimit: number;
  readonly #families: FamilyBuilder[] = [];
  readonly #byName = new Map<string, FamilyBuilder>();
  /**
   * Samples by a 32-bit hash of their identity (name and labels in any order), in an open-addressing table
   * of two typed arrays (hash, 1 + index in #samples; 0 is free) rather than a Map: hashing spans of the
   * line costs no allocation, and the rare equal hashes are told apart by comparing the series exactly.
   */
  #slotHashes: Int32Array;
  #slotSamples: Int32Array;
  readonly #samples: Sample[] = [];
  #current: FamilyBuilder | undefined;
  #pending = '';
  #lineNo = 0;
  #sampleCount = 0;
  #eof = false;
  #ended = false;
  // Scratch space for the labels of the line being parsed, reused to spare allocations.
  /** Per label k of the line being parsed: name start, name end, value start, value end (escaped). */
  readonly #spans: number[] = [];
  readonly #order: number[] = [];
  #labelsCanonical = true;
  /** Order-independent hash of the last label set parsed. */
  #labelsHash = 0;
  #sampleLine = '';
  #labelsEnd = 0;

  constructor(format: ExpositionFormat, options: ExpositionParserOptions) {
    this.#format = format;
    this.#om = format === 'openmetrics';
    this.#sampleLimit = options.sampleLimit;
    // At most half full: the next power of two of twice the expected count, within sane bounds.
    const expected = Math.min(options.expectedSamples ?? 0, options.sampleLimit, 1 << 20);
    let slots = 1024;
    while (slots < expected * 2) slots *= 2;
    this.#slotHashes = new Int32Array(slots);
    this.#slotSamples = new Int32Array(slots);
  }

  /** Parses every complete line in `chunk` (with what was left over from the previous one). */
  push(chunk: string): void {
    if (this.#ended) throw new Error('push after end');
    let start = 0;
    let newline = chunk.indexOf('\n');
    if (this.#pending !== '') {
      // Only the line cut by the chunk boundary is joined: joining whole chunks would copy each of them
      // (a large-object allocation per 128 KiB chunk) when the concatenation is flattened.
      if (newline === -1) {
        this.#pending += chunk;
        return;
      }
      const first = this.#pending + chunk.slice(0, newline);
      this.#pending = '';
      this.#line(first, true);
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
    }
    while (newline !== -1) {
      this.#line(chunk.slice(start, newline), true);
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
    }
    this.#pending = start === 0 ? chunk : chunk.slice(start);
  }

  /** Parses the last line and checks the body as a whole; returns the families in body order. */
  end(): ParsedExposition {
    if (this.#ended) throw new Error('end called twice');
    if (this.#pending !== '') this.#line(this.#pending, false);
    this.#pending = '';
    this.#ended = true;
    if (this.#om && !this.#eof) {
      throw new ExpositionError('parse', this.#lineNo, 'the OpenMetrics body does not end with "# EOF"');
    }
    return { format: this.#format, families: this.#finish(), sampleCount: this.#sampleCount };
  }

  #fail(problem: string): never {
    throw new ExpositionError('parse', this.#lineNo, problem);
  }

  #line(line: string, terminated: boolean): void {
    this.#lineNo++;
    if (this.#eof) this.#fail('content after "# EOF"; it must be the last line');
    if (this.#om) {
      if (line === '') this.#fail('blank line; OpenMetrics allows none');
      if (line.charCodeAt(0) === 35 /* # */) {
        this.#omComment(line, terminated);
        return;
      }
      if (!terminated) this.#fail('the last line is not "# EOF"');
      this.#sample(line);
      return;
    }
    // Text 0.0.4 tolerates leading blanks, blank lines and free comments.
    let start = 0;
    while (start < line.length && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
    if (start === line.length) return;
    if (start > 0) line = line.slice(start);
    if (line.charCodeAt(0) === 35) {
      this.#textComment(line);
      return;
    }
    this.#sample(line);
  }

  #omComment(line: string, terminated: boolean): void {
    if (line === '# EOF') {
      this.#eof = true;
      return;
    }
    if (!terminated && !line.startsWith('# EOF')) this.#fail('the last line is not "# EOF"');
    const match = /^# (HELP|TYPE|UNIT) ([^ ]+)(?: (.*))?$/.exec(line);
    if (!match) {
      this.#fail(
        `"${clip(line)}" is not a HELP, TYPE or UNIT line or "# EOF"; OpenMetrics allows no other comments`,
      );
    }
    this.#metadata(match[1]!, match[2]!, match[3]);
  }

  #textComment(line: string): void {
    const match = /^#[ \t]+(HELP|TYPE)[ \t]+([^ \t]+)(?:[ \t](.*))?$/.exec(line);
    // Any other comment is free text in 0.0.4.
    if (!match) return;
    this.#metadata(match[1]!, match[2]!, match[3]);
  }

  #metadata(keyword: string, name: string, rest: string | undefined): void {
    if (!METRIC_NAME.test(name))
      this.#fail(`"${clip(name)}" is not a valid metric name in a ${keyword} line`);
    const family = this.#familyForMetadata(name, keyword);
    if (keyword === 'HELP') {
      if (family.help !== undefined) this.#fail(`second HELP line for ${name}`);
      family.help = unescapeHelp(rest ?? '');
      return;
    }
    if (keyword === 'TYPE') {
      if (family.typeLine > 0) this.#fail(`second TYPE line for ${name}`);
      const word = (rest ?? '').trim();
      const types = this.#om ? OPENMETRICS_TYPES : TEXT_TYPES;
      const type = Object.hasOwn(types, word) ? types[word] : undefined;
      if (type === undefined) {
        this.#fail(`"${clip(word)}" is not a metric type; use one of ${Object.keys(types).join(', ')}`);
      }
      family.type = type;
      family.typeLine = this.#lineNo;
      return;
    }
    // UNIT (OpenMetrics only).
    if (family.unit !== undefined) this.#fail(`second UNIT line for ${name}`);
    const unit = rest ?? '';
    if (unit !== '' && !name.endsWith(`_${unit}`)) {
      this.#fail(`the unit "${clip(unit)}" is not a suffix of the family name ${name}`);
    }
    family.unit = unit;
  }

  #familyForMetadata(name: string, keyword: string): FamilyBuilder {
    const current = this.#current;
    if (current !== undefined && current.declaredName === name) {
      if (current.samples.length > 0 && (this.#om || keyword === 'TYPE')) {
        this.#fail(`${keyword} line for ${name} after its samples; metadata must come first`);
      }
      return current;
    }
    if (this.#byName.has(name)) {
      this.#fail(
        `${keyword} line for ${name}, whose family appeared earlier; a family's lines must be together`,
      );
    }
    return this.#startFamily(name, 'unknown');
  }

  #startFamily(name: string, type: MetricType): FamilyBuilder {
    const family: FamilyBuilder = {
      declaredName: name,
      type,
      typeLine: 0,
      help: undefined,
      unit: undefined,
      samples: [],
      lastName: '',
      lastSuffix: '',
    };
    this.#families.push(family);
    this.#byName.set(name, family);
    this.#current = family;
    return family;
  }

  #fits(family: FamilyBuilder, name: string): boolean {
    const base = family.declaredName;
    if (!name.startsWith(base)) return false;
    const suffix = name.length === base.length ? '' : name.slice(base.length);
    return (this.#om ? OPENMETRICS_SUFFIXES : TEXT_SUFFIXES)[family.type].includes(suffix);
  }

  #familyForSample(name: string): FamilyBuilder {
    const current = this.#current;
    // The same name as the previous sample (the same string, shared above) fits as it did then.
    if (current !== undefined && (name === current.lastName || this.#fits(current, name))) return current;
    const owner = this.#byName.get(name);
    if (owner !== undefined) {
      if (this.#fits(owner, name)) {
        this.#fail(
          `sample ${name} belongs to the family ${name} that appeared earlier; a family's lines must be together`,
        );
      }
      this.#fail(`sample ${name} does not fit the ${owner.type} family ${name}`);
    }
    for (const suffix of ALL_SUFFIXES) {
      if (!name.endsWith(suffix)) continue;
      const earlier = this.#byName.get(name.slice(0, -suffix.length));
      if (earlier !== undefined && earlier !== current && this.#fits(earlier, name)) {
        this.#fail(
          `sample ${name} belongs to the family ${earlier.declaredName} that appeared earlier; a family's lines must be together`,
        );
      }
    }
    return this.#startFamily(name, 'unknown');
  }

  #sample(line: string): void {
    this.#sampleLine = line;
    const om = this.#om;
    const length = line.length;
    if (!isNameStart(line.charCodeAt(0))) this.#fail(`"${clip(line)}" does not start with a metric name`);
    let hash = Math.imul(FNV_OFFSET ^ line.charCodeAt(0), FNV_PRIME);
    let i = 1;
    while (i < length) {
      const c = line.charCodeAt(i);
      if (!isNameChar(c)) break;
      hash = Math.imul(hash ^ c, FNV_PRIME);
      i++;
    }
    // Samples of a family mostly repeat one name: share that string rather than keep a copy per sample.
    // (A slice compared with === is cheaper than startsWith on a sliced line.)
    const current = this.#current;
    const sliced = line.slice(0, i);
    const name = current !== undefined && sliced === current.lastName ? current.lastName : sliced;
    const family = this.#familyForSample(name);
    if (family.lastName !== name) {
      family.lastName = name;
      const base = family.declaredName.length;
      family.lastSuffix = name.length === base ? '' : name.slice(base);
    }

    // The series is the line's own text up to seriesEnd unless its labels had to be rewritten.
    let series: string | undefined;
    let seriesEnd = i;
    let labelCount = 0;
    if (line.charCodeAt(i) === 123 /* { */) {
      labelCount = this.#labels(line, i, false);
      seriesEnd = this.#labelsEnd;
      if (!this.#labelsCanonical) series = name + this.#renderLabels(line, labelCount, false);
      hash ^= this.#labelsHash;
      i = seriesEnd;
    }

    // Value.
    if (!this.#skipSeparator(line, i)) {
      this.#fail(`expected a space and a value after ${clip(line.slice(0, seriesEnd))}`);
    }
    const valueStart = this.#separatorEnd;
    const valueEnd = tokenEnd(line, valueStart);
    // Most values are plain decimals printed as scraped: checked in place, no string made for them.
    const kind = decimalKind(line, valueStart, valueEnd);
    const rewritten = kind === 1 ? undefined : this.#rewrittenValue(line, valueStart, valueEnd, kind);
    // The line can be served as is when one space separates series and value and nothing was rewritten.
    const plain = series === undefined && valueStart === seriesEnd + 1 && rewritten === undefined;
    i = valueEnd;
    // Before an exemplar's labels overwrite the scratch labels.
    this.#checkSample(family, name, rewritten, kind !== 0, valueStart, valueEnd, labelCount);

    // Optional timestamp, then (OpenMetrics) an optional exemplar.
    let timestampMs: number | undefined;
    let exemplar: string | undefined;
    if (i < length) {
      if (!this.#skipSeparator(line, i)) this.#fail(`unexpected text after the value in "${clip(line)}"`);
      i = this.#separatorEnd;
      if (i < length && line.charCodeAt(i) !== 35 /* # */) {
        const tsEnd = tokenEnd(line, i);
        timestampMs = this.#timestamp(line.slice(i, tsEnd));
        i = tsEnd;
        if (i < length) {
          if (!this.#skipSeparator(line, i)) {
            this.#fail(`unexpected text after the timestamp in "${clip(line)}"`);
          }
          i = this.#separatorEnd;
        }
      }
      if (i < length) {
        if (!om) {
          this.#fail(
            `unexpected text "${clip(line.slice(i))}" after the value of ${clip(line.slice(0, seriesEnd))}`,
          );
        }
        exemplar = this.#exemplar(line, i, family, name);
      }
    }

    if (++this.#sampleCount > this.#sampleLimit) {
      throw new ExpositionError(
        'sample_limit',
        this.#lineNo,
        `more than ${this.#sampleLimit} samples (--sample-limit)`,
      );
    }
    const sample: Sample = {
      name,
      text: plain
        ? valueEnd === length
          ? line
          : line.slice(0, valueEnd)
        : `${series ?? line.slice(0, seriesEnd)} ${rewritten ?? line.slice(valueStart, valueEnd)}`,
      seriesLength: series === undefined ? seriesEnd : series.length,
      timestampMs,
      exemplar,
      line: this.#lineNo,
    };
    this.#addSeries(fmix(hash), sample);
    family.samples.push(sample);
  }

  /** Records the sample under its identity hash; a second sample of the same series fails the body. */
  #addSeries(hash: number, sample: Sample): void {
    const samples = this.#samples;
    if ((samples.length + 1) * 2 > this.#slotHashes.length) this.#growSeries();
    const hashes = this.#slotHashes;
    const indexes = this.#slotSamples;
    const mask = hashes.length - 1;
    let slot = hash & mask;
    let key: string | undefined;
    while (indexes[slot] !== 0) {
      if (hashes[slot] === hash) {
        const other = samples[indexes[slot]! - 1]!;
        key ??= seriesKey(seriesOf(sample));
        if (seriesKey(seriesOf(other)) === key) {
          this.#fail(`duplicate series ${clip(seriesOf(sample))}, first on line ${other.line}`);
        }
      }
      slot = (slot + 1) & mask;
    }
    samples.push(sample);
    hashes[slot] = hash;
    indexes[slot] = samples.length;
  }

  #growSeries(): void {
    const oldHashes = this.#slotHashes;
    const oldIndexes = this.#slotSamples;
    const hashes = new Int32Array(oldHashes.length * 2);
    const indexes = new Int32Array(oldHashes.length * 2);
    const mask = hashes.length - 1;
    for (let k = 0; k < oldIndexes.length; k++) {
      if (oldIndexes[k] === 0) continue;
      let slot = oldHashes[k]! & mask;
      while (indexes[slot] !== 0) slot = (slot + 1) & mask;
      hashes[slot] = oldHashes[k]!;
      indexes[slot] = oldIndexes[k]!;
    }
    this.#slotHashes = hashes;
    this.#slotSamples = indexes;
  }

  #separatorEnd = 0;

  /** OpenMetrics separates tokens by exactly one space; text 0.0.4 by any run of blanks. */
  #skipSeparator(line: string, i: number): boolean {
    const c = line.charCodeAt(i);
    if (this.#om) {
      if (c !== 32) return false;
      this.#separatorEnd = i + 1;
      return true;
    }
    if (c !== 32 && c !== 9) return false;
    let j = i + 1;
    while (j < line.length && (line.charCodeAt(j) === 32 || line.charCodeAt(j) === 9)) j++;
    this.#separatorEnd = j;
    return true;
  }

  /**
   * Parses `{name="value",...}` starting at `start` into the scratch arrays; returns the label count and
   * sets #labelsEnd past the `}`. Values stay escaped: both formats escape the same three characters.
   */
  #labels(line: string, start: number, exemplar: boolean): number {
    const om = this.#om;
    const length = line.length;
    const spans = this.#spans;
    let count = 0;
    let canonical = true;
    let sum = 0;
    let i = start + 1;
    // Blanks around label tokens: text 0.0.4 only, and they make the label text non-canonical.
    let j = om ? i : skipBlanks(line, i);
    if (j !== i) canonical = false;
    i = j;
    while (true) {
      if (i >= length) this.#fail('unterminated label set; expected "}"');
      if (line.charCodeAt(i) === 125 /* } */) {
        if (count > 0) {
          // A trailing comma: text 0.0.4 allows it, OpenMetrics does not.
          if (om) this.#fail('a comma before "}" in a label set');
          canonical = false;
        }
        i++;
        break;
      }
      const nameStart = i;
      if (!isLabelStart(line.charCodeAt(i))) {
        this.#fail(
          `"${clip(line.slice(i))}" does not start with a label name (letters, digits, _; not a digit first)`,
        );
      }
      // Each label is hashed while scanned; the sum of the hashes identifies the set in any order.
      let labelHash = Math.imul(FNV_OFFSET ^ line.charCodeAt(i), FNV_PRIME);
      i++;
      while (i < length) {
        const c = line.charCodeAt(i);
        if (!isLabelChar(c)) break;
        labelHash = Math.imul(labelHash ^ c, FNV_PRIME);
        i++;
      }
      labelHash = Math.imul(labelHash ^ 61, FNV_PRIME);
      const nameEnd = i;
      if (line.charCodeAt(nameStart) === 95 && line.charCodeAt(nameStart + 1) === 95) {
        const labelName = line.slice(nameStart, nameEnd);
        if (om || labelName === '__name__') this.#fail(`label name ${labelName} is reserved`);
      }
      if (!om) {
        j = skipBlanks(line, i);
        if (j !== i) canonical = false;
        i = j;
      }
      if (line.charCodeAt(i) !== 61 /* = */) {
        this.#fail(`expected "=" after label name ${line.slice(nameStart, nameEnd)}`);
      }
      i++;
      if (!om) {
        j = skipBlanks(line, i);
        if (j !== i) canonical = false;
        i = j;
      }
      if (line.charCodeAt(i) !== 34 /* " */) {
        this.#fail(`expected a quoted value for label ${line.slice(nameStart, nameEnd)}`);
      }
      i++;
      const valueStart = i;
      while (true) {
        if (i >= length) this.#fail(`unterminated value for label ${line.slice(nameStart, nameEnd)}`);
        const c = line.charCodeAt(i);
        if (c === 34) break;
        if (c === 92 /* \ */) {
          const next = line.charCodeAt(i + 1);
          if (next !== 92 && next !== 34 && next !== 110 /* n */) {
            this.#fail(
              `invalid escape "\\${line.charAt(i + 1)}" in the value of label ${line.slice(nameStart, nameEnd)}; use \\\\, \\" or \\n`,
            );
          }
          labelHash = Math.imul(Math.imul(labelHash ^ 92, FNV_PRIME) ^ next, FNV_PRIME);
          i += 2;
          continue;
        }
        labelHash = Math.imul(labelHash ^ c, FNV_PRIME);
        i++;
      }
      sum = (sum + fmix(labelHash)) | 0;
      const base = count * 4;
      spans[base] = nameStart;
      spans[base + 1] = nameEnd;
      spans[base + 2] = valueStart;
      spans[base + 3] = i;
      count++;
      i++;
      if (!om) {
        j = skipBlanks(line, i);
        if (j !== i) canonical = false;
        i = j;
      }
      const c = line.charCodeAt(i);
      if (c === 44 /* , */) {
        i++;
        if (!om) {
          j = skipBlanks(line, i);
          if (j !== i) canonical = false;
          i = j;
        }
        continue;
      }
      if (c !== 125) {
        this.#fail(`expected "," or "}" after the value of label ${line.slice(nameStart, nameEnd)}`);
      }
      i++;
      break;
    }
    // Duplicate label names: sort-free check for the usual handful of labels.
    for (let a = 1; a < count; a++) {
      for (let b = 0; b < a; b++) {
        const aStart = spans[a * 4]!;
        const bStart = spans[b * 4]!;
        const aLength = spans[a * 4 + 1]! - aStart;
        // Names of different lengths differ: most pairs are told apart without reading them.
        if (
          aLength === spans[b * 4 + 1]! - bStart &&
          compareSpans(line, aStart, aStart + aLength, bStart, bStart + aLength) === 0
        ) {
          this.#fail(`label ${line.slice(spans[a * 4]!, spans[a * 4 + 1]!)} appears twice in one label set`);
        }
      }
    }
    if (exemplar) {
      let runes = 0;
      for (let k = 0; k < count; k++) {
        runes += [...line.slice(spans[k * 4]!, spans[k * 4 + 1]!)].length;
        runes += [...line.slice(spans[k * 4 + 2]!, spans[k * 4 + 3]!)].length;
      }
      if (runes > EXEMPLAR_LABELS_MAX) {
        this.#fail(`exemplar labels are ${runes} characters long; OpenMetrics allows ${EXEMPLAR_LABELS_MAX}`);
      }
    }
    this.#labelsCanonical = canonical;
    this.#labelsEnd = i;
    this.#labelsHash = sum;
    return count;
  }

  /**
   * A sample value that is not printed as scraped (an out-of-range decimal, `inf`, `nan` spelt otherwise),
   * as it is served; undefined when the scraped token is served as is.
   */
  #rewrittenValue(line: string, start: number, end: number, kind: number): string | undefined {
    const token = line.slice(start, end);
    if (kind === 2) {
      const number = Number(token);
      return Number.isFinite(number) ? undefined : number > 0 ? '+Inf' : '-Inf';
    }
    const value = this.#value(token, 'value');
    return value === token ? undefined : value;
  }

  #value(token: string, what: string): string {
    if (DECIMAL.test(token)) {
      // Out-of-range decimals would be rejected by Go's ParseFloat in Prometheus; print them as infinities.
      const number = Number(token);
      if (!Number.isFinite(number)) return number > 0 ? '+Inf' : '-Inf';
      return token;
    }
    switch (token.toLowerCase()) {
      case 'inf':
      case '+inf':
      case 'infinity':
      case '+infinity':
        return '+Inf';
      case '-inf':
      case '-infinity':
        return '-Inf';
      case 'nan':
        return 'NaN';
      default:
        this.#fail(`"${clip(token)}" is not a valid ${what}; ${VALUE_HINT}`);
    }
  }

  #timestamp(token: string): number {
    if (this.#om) {
      if (!DECIMAL.test(token)) {
        this.#fail(`"${clip(token)}" is not a timestamp; use seconds since the epoch, e.g. 1700000000.123`);
      }
      return Number(token) * 1000;
    }
    if (!INTEGER.test(token)) {
      this.#fail(
        `"${clip(token)}" is not a timestamp; use whole milliseconds since the epoch, e.g. 1700000000123`,
      );
    }
    return Number(token);
  }

  #exemplar(line: string, start: number, family: FamilyBuilder, name: string): string {
    if (!line.startsWith('# {', start)) {
      this.#fail(
        `unexpected text "${clip(line.slice(start))}"; an exemplar reads # {labels} value [timestamp]`,
      );
    }
    const suffix = name.slice(family.declaredName.length);
    const allowed =
      (family.type === 'counter' && suffix === '_total') ||
      ((family.type === 'histogram' || family.type === 'gaugehistogram') && suffix === '_bucket');
    if (!allowed) {
      this.#fail(
        `exemplar on ${name}; OpenMetrics allows exemplars only on counters' _total and histogram buckets`,
      );
    }
    this.#labels(line, start + 2, true);
    let i = this.#labelsEnd;
    const labelsText = line.slice(start + 2, i);
    if (line.charCodeAt(i) !== 32) this.#fail('expected a space and a value after the exemplar labels');
    i++;
    let end = line.indexOf(' ', i);
    if (end === -1) end = line.length;
    const value = this.#value(line.slice(i, end), 'exemplar value');
    let text = ` # ${labelsText} ${value}`;
    if (end < line.length) {
      const ts = line.slice(end + 1);
      if (!DECIMAL.test(ts))
        this.#fail(`"${clip(ts)}" is not an exemplar timestamp; use seconds, e.g. 1700000000.5`);
      text += ` ${ts}`;
    }
    return text;
  }

  /**
   * What the specs require of a sample given its family's type. The value is `rewritten`, or when that is
   * undefined the scraped token at line[valueStart, valueEnd) (`decimal` if it is a decimal number, not
   * NaN or an infinity), sliced only for the checks that read it.
   */
  #checkSample(
    family: FamilyBuilder,
    name: string,
    rewritten: string | undefined,
    decimal: boolean,
    valueStart: number,
    valueEnd: number,
    labelCount: number,
  ): void {
    const suffix = family.lastSuffix;
    // A decimal served as scraped and not starting with "-" is >= 0 ("-0" goes the slow way and passes).
    const nonNegative = decimal && rewritten === undefined && this.#sampleLine.charCodeAt(valueStart) !== 45;
    switch (family.type) {
      case 'histogram':
      case 'gaugehistogram':
        if (suffix === '_bucket') this.#requireNumericLabel('le', labelCount, name);
        else if (this.#om && !nonNegative && (suffix === '_count' || suffix === '_gcount'))
          this.#requireNonNegative(name, rewritten, valueStart, valueEnd);
        return;
      case 'summary':
        if (suffix === '') this.#requireNumericLabel('quantile', labelCount, name);
        else if (this.#om && !nonNegative && suffix === '_count')
          this.#requireNonNegative(name, rewritten, valueStart, valueEnd);
        return;
      case 'counter':
        if (this.#om && !nonNegative && suffix === '_total')
          this.#requireNonNegative(name, rewritten, valueStart, valueEnd);
        return;
      case 'stateset': {
        const text = rewritten ?? this.#sampleLine.slice(valueStart, valueEnd);
        if (text !== '0' && text !== '1' && Number(text) !== 0 && Number(text) !== 1) {
          this.#fail(`stateset sample ${name} has value ${text}; use 0 or 1`);
        }
        if (this.#labelIndex(family.declaredName, labelCount) < 0)
          this.#fail(`stateset sample ${name} has no label named ${family.declaredName}`);
        return;
      }
      case 'info': {
        const text = rewritten ?? this.#sampleLine.slice(valueStart, valueEnd);
        if (Number(text) !== 1) this.#fail(`info sample ${name} has value ${text}; it must be 1`);
        return;
      }
      default:
        return;
    }
  }

  #requireNonNegative(name: string, rewritten: string | undefined, start: number, end: number): void {
    const value = rewritten ?? this.#sampleLine.slice(start, end);
    const number = Number(value);
    if (!(number >= 0)) this.#fail(`${name} is ${value}; it must be a number >= 0`);
  }

  #requireNumericLabel(label: string, labelCount: number, name: string): void {
    const k = this.#labelIndex(label, labelCount);
    if (k < 0) this.#fail(`${name} has no ${label} label`);
    const start = this.#spans[k * 4 + 2]!;
    const end = this.#spans[k * 4 + 3]!;
    if (decimalKind(this.#sampleLine, start, end) !== 0) return;
    const raw = this.#sampleLine.slice(start, end);
    if (!/^[+-]?(inf|infinity|nan)$/i.test(raw)) {
      this.#fail(`${name} has ${label}="${clip(raw)}"; ${label} must be a float`);
    }
  }

  /** Index of the label called `label` among the current line's labels, or -1. */
  #labelIndex(label: string, labelCount: number): number {
    const spans = this.#spans;
    const line = this.#sampleLine;
    for (let k = 0; k < labelCount; k++) {
      const start = spans[k * 4]!;
      if (spans[k * 4 + 1]! - start === label.length && equalAt(line, start, label)) return k;
    }
    return -1;
  }

  /** `{a="1",b="2"}` from the current spans, in line order or sorted by label name. */
  #renderLabels(line: string, count: number, sorted: boolean): string {
    const spans = this.#spans;
    const order = this.#order;
    for (let k = 0; k < count; k++) {
      let at = k;
      if (sorted) {
        // Insertion sort: label sets are small.
        while (
          at > 0 &&
          compareSpans(
            line,
            spans[order[at - 1]! * 4]!,
            spans[order[at - 1]! * 4 + 1]!,
            spans[k * 4]!,
            spans[k * 4 + 1]!,
          ) > 0
        ) {
          order[at] = order[at - 1]!;
          at--;
        }
      }
      order[at] = k;
    }
    let text = '{';
    for (let k = 0; k < count; k++) {
      const base = order[k]! * 4;
      if (k > 0) text += ',';
      text += `${line.slice(spans[base]!, spans[base + 1]!)}="${line.slice(spans[base + 2]!, spans[base + 3]!)}"`;
    }
    return `${text}}`;
  }

  /** Names families as OpenMetrics does and freezes them. */
  #finish(): MetricFamily[] {
    const om = this.#om;
    const declared = this.#byName;
    const families = this.#families.map((family): MetricFamily => {
      let name = family.declaredName;
      let legacyCounter = false;
      if (!om && family.type === 'counter') {
        // Text 0.0.4 names a counter after its samples; OpenMetrics names the family without `_total`.
        const base = name.endsWith('_total') ? name.slice(0, -6) : '';
        if (base !== '' && !declared.has(base)) name = base;
        else legacyCounter = true;
      }
      return {
        name,
        type: family.type,
        help: family.help,
        unit: family.unit || undefined,
        legacyCounter,
        samples: family.samples,
      };
    });
    return (om ? families : foldCreatedGauges(families)).map((family) =>
      Object.freeze({ ...family, samples: Object.freeze(family.samples) }),
    );
  }
}

const CREATED_OWNERS: ReadonlySet<MetricType> = new Set(['counter', 'histogram', 'summary']);

/**
 * Text 0.0.4 has no `_created` samples, so clients (client_python among them) expose them as a gauge
 * family `<name>_created` after the counter, histogram or summary. Served as OpenMetrics, that family's
 * samples would clash with the `_created` samples the OpenMetrics family owns, so they are folded back into
 * it, each after the last sample of its label set (OpenMetrics keeps a label set's samples together).
 * The series stay the same; text 0.0.4 rendering splits them out again.
 */
function foldCreatedGauges(families: MetricFamily[]): MetricFamily[] {
  const byName = new Map(families.map((family) => [family.name, family]));
  const folded = new Set<MetricFamily>();
  const result: MetricFamily[] = [];
  for (const family of families) {
    if (folded.has(family)) continue;
    const created =
      CREATED_OWNERS.has(family.type) && !family.legacyCounter
        ? byName.get(`${family.name}_created`)
        : undefined;
    const createdName = `${family.name}_created`;
    if (
      created === undefined ||
      (created.type !== 'gauge' && created.type !== 'unknown') ||
      !created.samples.every((sample) => sample.name === createdName)
    ) {
      result.push(family);
      continue;
    }
    folded.add(created);
    const pending = new Map<string, Sample>();
    for (const sample of created.samples) pending.set(groupOf(sample, createdName), sample);
    const lastOfGroup = new Map<string, number>();
    family.samples.forEach((sample, index) => {
      lastOfGroup.set(groupOf(sample, sample.name), index);
    });
    const samples: Sample[] = [];
    family.samples.forEach((sample, index) => {
      samples.push(sample);
      const group = groupOf(sample, sample.name);
      const extra = pending.get(group);
      if (extra !== undefined && lastOfGroup.get(group) === index) {
        samples.push(extra);
        pending.delete(group);
      }
    });
    samples.push(...pending.values());
    result.push({ ...family, samples });
  }
  // A `_created` family that came before its owner was left in place above; drop it where it was.
  return result.filter((family) => !folded.has(family));
}

/** A sample's label set without `le` and `quantile`, in sorted order: what OpenMetrics groups by. */
function groupOf(sample: Sample, name: string): string {
  const labels = seriesKey(sample.text.slice(0, sample.seriesLength)).slice(name.length);
  if (labels === '') return '';
  const group = labels.replace(/(?<=[{,])(?:le|quantile)="[^"]*"(?:,|(?=\}))/, '').replace(/,\}$/, '}');
  return group === '{}' ? '' : group;
}

/** Parses a whole body at once. */
export function parseExposition(
  text: string,
  format: ExpositionFormat,
  options: ExpositionParserOptions = { sampleLimit: Number.MAX_SAFE_INTEGER },
): ParsedExposition {
  const parser = new ExpositionParser(format, options);
  parser.push(text);
  return parser.end();
}

/**
 * Whether text[start, end) matches DECIMAL, without making a string: 0 if not, 1 if it is and is
 * certainly finite, 2 if it is but may overflow to an infinity (an exponent or over 300 characters).
 */
function decimalKind(text: string, start: number, end: number): number {
  let i = start;
  let c = text.charCodeAt(i);
  if (c === 43 /* + */ || c === 45 /* - */) c = text.charCodeAt(++i);
  let digits = 0;
  while (i < end && c >= 48 && c <= 57) {
    digits++;
    c = text.charCodeAt(++i);
  }
  if (i < end && c === 46 /* . */) {
    c = text.charCodeAt(++i);
    while (i < end && c >= 48 && c <= 57) {
      digits++;
      c = text.charCodeAt(++i);
    }
  }
  if (digits === 0) return 0;
  if (i === end) return end - start > 300 ? 2 : 1;
  if (c !== 101 /* e */ && c !== 69 /* E */) return 0;
  c = text.charCodeAt(++i);
  if (c === 43 || c === 45) c = text.charCodeAt(++i);
  if (i >= end || !(c >= 48 && c <= 57)) return 0;
  while (i < end && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  return i === end ? 2 : 0;
}

/** Whether `text` has `word` at `start` (a loop: startsWith costs more on sliced strings). */
function equalAt(text: string, start: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (text.charCodeAt(start + k) !== word.charCodeAt(k)) return false;
  return true;
}

/** Index of the first space or tab from `start`, or the line's length. */
function tokenEnd(line: string, start: number): number {
  let end = start;
  while (end < line.length) {
    const c = line.charCodeAt(end);
    if (c === 32 || c === 9) break;
    end++;
  }
  return end;
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** murmur3's finaliser: spreads every input bit over the hash, which FNV alone does poorly. */
function fmix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return hash ^ (hash >>> 16);
}

function skipBlanks(line: string, i: number): number {
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

/** Compares line[aStart, aEnd) with line[bStart, bEnd) by UTF-16 code unit, as `<` on strings does. */
function compareSpans(line: string, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const length = Math.min(aLength, bLength);
  for (let k = 0; k < length; k++) {
    const diff = line.charCodeAt(aStart + k) - line.charCodeAt(bStart + k);
    if (diff !== 0) return diff;
  }
  return aLength - bLength;
}

/** HELP escapes `\\` and `\n` (and `\"` in OpenMetrics); any other backslash is kept, as Prometheus does. */
function unescapeHelp(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(.)/g, (whole, c: string) =>
    c === 'n' ? '\n' : c === '\\' ? '\\' : c === '"' ? '"' : whole,
  );
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Character classes of names by ASCII code: a table lookup beats four range checks per character. */
const NAME_START = 1;
const NAME_CHAR = 2;
const LABEL_START = 4;
const LABEL_CHAR = 8;
const CHAR_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
  const digit = c >= 48 && c <= 57;
  CHAR_CLASS[c] =
    (letter || c === 58 ? NAME_START | NAME_CHAR : 0) |
    (digit ? NAME_CHAR | LABEL_CHAR : 0) |
    (letter ? LABEL_START | LABEL_CHAR : 0);
}

function isNameStart(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & NAME_START) !== 0;
}

function isNameChar(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & NAME_CHAR) !== 0;
}

function isLabelStart(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & LABEL_START) !== 0;
}

function isLabelChar(c: number): boolean {
  return c < 128 && (CHAR_CLASS[c]! & LABEL_CHAR) !== 0;
}
