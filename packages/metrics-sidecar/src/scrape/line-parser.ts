import { ExpositionError } from './exposition-error.js';
import type { ExpositionParser, ExpositionParserOptions, ParsedExposition } from './exposition-parser.js';
import { LabelLexer } from './label-lexer.js';
import {
  canonicalFloat,
  clip,
  decimalKind,
  FNV_OFFSET,
  FNV_PRIME,
  floatOf,
  fmix,
  isNameChar,
  isNameStart,
  METRIC_NAME,
  numberAt,
  plainNumberAt,
  tokenEnd,
  unescapeHelp,
  VALUE_HINT,
} from './lexing.js';
import { SampleStore } from './sample-store.js';
import { SeriesTable } from './series-table.js';
import type { ExpositionFormat, MetricFamily, MetricType } from './snapshot.js';
import { ALL_SUFFIXES, type FamilyBuilder, fits, SampleValidator } from './validation.js';

/** How many series to size the table for: the expected count, within the limit and a sane bound. */
function expectedSize(options: ExpositionParserOptions): number {
  return Math.min(options.expectedSamples ?? 0, options.sampleLimit, 1 << 20);
}

/**
 * What both formats share: splitting the streamed text into lines, families and their metadata, and the
 * sample line (name, labels, value) with its series identity. Each format's parser (text-parser,
 * openmetrics-parser) adds its own lines, separators, timestamps and what may follow a value.
 */
export abstract class LineParser implements ExpositionParser {
  protected abstract readonly format: ExpositionFormat;
  /** OpenMetrics: exactly one space between tokens (text 0.0.4: runs of blanks). */
  protected abstract readonly strictSpacing: boolean;
  /** The TYPE words of the format and the family type each means. */
  protected abstract readonly types: Readonly<Record<string, MetricType>>;
  /** The sample-name suffixes each family type allows after the family name. */
  protected abstract readonly suffixes: Readonly<Record<MetricType, readonly string[]>>;
  protected readonly families: FamilyBuilder[] = [];
  protected readonly byName = new Map<string, FamilyBuilder>();
  protected readonly labels: LabelLexer;
  protected readonly validator: SampleValidator;
  protected lineNo = 0;
  protected sampleCount = 0;
  /** Index just past the separator found by the last successful `separator` call. */
  protected separatorEnd = 0;
  /**
   * Where the line being parsed starts in the string it is a slice of (`#segmentText`): a sample whose
   * text is the line's own is stored as that span. A format that drops leading blanks adds their count.
   */
  protected lineOffset = 0;
  #segmentText = '';
  /** The store's id of `#segmentText`, or -1 until a sample is a span of it. */
  #segmentId = -1;
  #sampleLimit = 0;
  #store: SampleStore | undefined;
  readonly #series: SeriesTable;
  /**
   * What the lexer and the label rules made of each sample of the last valid body, by its index there
   * (`#last`), and of this body so far (`#next`, swapped in when it ends valid): a sample whose series
   * text, family and type are those of the same sample of the last body gets them from there instead of
   * lexing its labels again (Prometheus' scrape cache does this by series text; here by position, so
   * nothing is hashed or looked up). `#lastStore` holds the last body's texts to compare with; it is the
   * store of the snapshot being served.
   */
  #last = new LabelsOfSamples(0);
  #next = new LabelsOfSamples(0);
  #lastStore: SampleStore | undefined;
  #lastCount = 0;
  #current: FamilyBuilder | undefined;
  #pending = '';
  #ended = false;

  constructor(om: boolean, options: ExpositionParserOptions) {
    const fail = (problem: string): never => this.fail(problem);
    this.labels = new LabelLexer(!om, fail);
    this.validator = new SampleValidator(om, this.labels, fail, () => this.lineNo);
    this.#sampleLimit = options.sampleLimit;
    this.#series = new SeriesTable(expectedSize(options));
    this.#begin(expectedSize(options));
  }

  /** A new store for the next body's samples (the last one belongs to its snapshot now). */
  #begin(expected: number): void {
    const store = new SampleStore(expected);
    this.#store = store;
    this.#series.reset(expected, store);
    this.#next.reserve(expected);
    this.validator.begin(store);
    this.#segmentText = '';
    this.#segmentId = -1;
  }

  /** The samples of the body being parsed. */
  protected get store(): SampleStore {
    return this.#store!;
  }

  /**
   * Starts the next body with the same lexer, validator and tables. A scrape client keeps one parser per
   * format for its target's whole life: V8's optimised parser code embeds the objects it has seen (these
   * closures, this lexer), and a parser made per scrape dies after it, which throws that code away at the
   * next full GC and runs the next scrape interpreted.
   */
  reset(options: ExpositionParserOptions): void {
    this.#sampleLimit = options.sampleLimit;
    this.validator.reset();
    this.#begin(expectedSize(options));
    this.families.length = 0;
    this.byName.clear();
    this.lineNo = 0;
    this.sampleCount = 0;
    this.separatorEnd = 0;
    this.#current = undefined;
    this.#pending = '';
    this.#ended = false;
    this.resetFormat();
  }

  /** The format's own state, for the next body. */
  protected abstract resetFormat(): void;

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
      this.lineNo++;
      this.#segment(first, 0);
      this.line(first, true);
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
    }
    if (newline !== -1) {
      this.#segmentText = chunk;
      this.#segmentId = -1;
    }
    while (newline !== -1) {
      this.lineNo++;
      this.lineOffset = start;
      this.line(chunk.slice(start, newline), true);
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
    }
    this.#pending = start === 0 ? chunk : chunk.slice(start);
  }

  /** The next line is `text` from `offset` on (a string of its own, not the chunk). */
  #segment(text: string, offset: number): void {
    this.#segmentText = text;
    this.#segmentId = -1;
    this.lineOffset = offset;
  }

  /** Parses the last line and checks the body as a whole; returns the families in body order. */
  end(): ParsedExposition {
    if (this.#ended) throw new Error('end called twice');
    if (this.#pending !== '') {
      this.lineNo++;
      this.#segment(this.#pending, 0);
      this.line(this.#pending, false);
    }
    this.#pending = '';
    this.#ended = true;
    this.endOfBody();
    if (this.#current !== undefined) this.validator.endFamily(this.#current);
    const parsed = { format: this.format, families: this.finish(), sampleCount: this.sampleCount };
    // The body is valid: the next one compares its series with this one's. A text body with a family
    // served in text only (a problem, not an error) is not used: its label rules did not all hold.
    const next = this.#next;
    this.#next = this.#last;
    this.#last = next;
    this.#lastStore = this.#store;
    this.#lastCount = this.families.some((family) => family.problem !== undefined) ? 0 : this.sampleCount;
    // Nothing of this body may stay reachable from the kept parser once its snapshot is replaced.
    this.#series.release();
    this.#store = undefined;
    this.#segmentText = '';
    this.families.length = 0;
    this.byName.clear();
    this.#current = undefined;
    this.validator.reset();
    return parsed;
  }

  /** One line without its newline; `terminated` is false for a last line without one. */
  protected abstract line(line: string, terminated: boolean): void;
  /** Checks that need the whole body, after its last line. */
  protected abstract endOfBody(): void;
  /** Whether a separator starts at line[i]; if so, sets `separatorEnd` past it. */
  protected abstract separator(line: string, i: number): boolean;
  /** A timestamp token as milliseconds since the epoch. */
  protected abstract timestamp(token: string): number;
  /** What follows value and timestamp, from line[i]: an exemplar to keep, or an error. */
  protected abstract trailer(line: string, i: number, family: FamilyBuilder, name: string): string;
  /** Families as OpenMetrics names them, frozen. */
  protected abstract finish(): MetricFamily[];

  protected fail(problem: string): never {
    throw new ExpositionError('parse', this.lineNo, problem);
  }

  protected metadata(keyword: string, name: string, rest: string | undefined): void {
    if (!METRIC_NAME.test(name)) this.fail(`"${clip(name)}" is not a valid metric name in a ${keyword} line`);
    const family = this.#familyForMetadata(name, keyword);
    if (keyword === 'HELP') {
      if (family.help !== undefined) this.fail(`second HELP line for ${name}`);
      family.help = unescapeHelp(rest ?? '');
      return;
    }
    if (keyword === 'TYPE') {
      if (family.typeLine > 0) this.fail(`second TYPE line for ${name}`);
      // Text 0.0.4 allows blanks before the type (not after: promtool reads them as part of it);
      // OpenMetrics exactly one space.
      const word = this.strictSpacing ? (rest ?? '') : (rest ?? '').trimStart();
      const types = this.types;
      const type = Object.hasOwn(types, word) ? types[word] : undefined;
      if (type === undefined) {
        this.fail(`"${clip(word)}" is not a metric type; use one of ${Object.keys(types).join(', ')}`);
      }
      family.type = type;
      family.typeLine = this.lineNo;
      return;
    }
    // UNIT (OpenMetrics only).
    if (family.unit !== undefined) this.fail(`second UNIT line for ${name}`);
    const unit = rest ?? '';
    if (unit !== '' && !name.endsWith(`_${unit}`)) {
      this.fail(`the unit "${clip(unit)}" is not a suffix of the family name ${name}`);
    }
    family.unit = unit;
  }

  /** Whether metadata of a family that already has samples is an error (always in OpenMetrics). */
  protected abstract metadataAfterSamples(keyword: string): boolean;

  #familyForMetadata(name: string, keyword: string): FamilyBuilder {
    const current = this.#current;
    if (current !== undefined && current.declaredName === name) {
      if (current.count > 0 && this.metadataAfterSamples(keyword)) {
        this.fail(`${keyword} line for ${name} after its samples; metadata must come first`);
      }
      return current;
    }
    if (this.byName.has(name)) {
      this.fail(
        `${keyword} line for ${name}, whose family appeared earlier; a family's lines must be together`,
      );
    }
    return this.#startFamily(name, 'unknown');
  }

  #startFamily(name: string, type: MetricType): FamilyBuilder {
    if (this.#current !== undefined) this.validator.endFamily(this.#current);
    const family: FamilyBuilder = {
      declaredName: name,
      type,
      typeLine: 0,
      help: undefined,
      unit: undefined,
      first: -1,
      count: 0,
      lastName: '',
      lastSuffix: '',
      lastNameHash: 0,
      names: [],
      nameSuffixes: [],
      nameIds: [],
      lastNameId: -1,
      problem: undefined,
      key: '',
    };
    this.families.push(family);
    this.byName.set(name, family);
    this.#current = family;
    return family;
  }

  /**
   * The family of a sample called `name`, with `lastName` (that name, as one string its samples share)
   * and `lastSuffix` set.
   */
  #familyForSample(name: string): FamilyBuilder {
    const current = this.#current;
    const suffixes = this.suffixes;
    if (current !== undefined) {
      // The same name as the previous sample fits as it did then.
      if (name === current.lastName) return current;
      const names = current.names;
      for (let k = 0; k < names.length; k++) {
        if (names[k] === name) {
          current.lastName = names[k]!;
          current.lastSuffix = current.nameSuffixes[k]!;
          current.lastNameId = current.nameIds[k]!;
          return current;
        }
      }
      if (fits(current, name, suffixes)) return this.#useName(current, name);
    }
    const owner = this.byName.get(name);
    if (owner !== undefined) {
      if (fits(owner, name, suffixes)) {
        this.fail(
          `sample ${name} belongs to the family ${name} that appeared earlier; a family's lines must be together`,
        );
      }
      this.fail(`sample ${name} does not fit the ${owner.type} family ${name}`);
    }
    for (const suffix of ALL_SUFFIXES) {
      if (!name.endsWith(suffix)) continue;
      const earlier = this.byName.get(name.slice(0, -suffix.length));
      if (earlier !== undefined && earlier !== current && fits(earlier, name, suffixes)) {
        this.fail(
          `sample ${name} belongs to the family ${earlier.declaredName} that appeared earlier; a family's lines must be together`,
        );
      }
    }
    return this.#useName(this.#startFamily(name, 'unknown'), name);
  }

  /** Records `name` as a sample name of `family` (which it fits) and makes it the family's last. */
  #useName(family: FamilyBuilder, name: string): FamilyBuilder {
    const base = family.declaredName.length;
    const suffix = name.length === base ? '' : name.slice(base);
    const id = this.#store!.addName(name);
    family.names.push(name);
    family.nameSuffixes.push(suffix);
    family.nameIds.push(id);
    family.lastName = name;
    family.lastSuffix = suffix;
    family.lastNameId = id;
    return family;
  }

  protected sample(line: string): void {
    const length = line.length;
    // Most samples have the previous sample's name: a slice of the line is compared with it by === (a
    // native comparison, cheaper than a charCodeAt loop), the name's hash kept from then. Otherwise the
    // name is hashed, sliced and looked up.
    const current = this.#current;
    let family: FamilyBuilder;
    let hash: number;
    let i: number;
    const last = current === undefined ? '' : current.lastName;
    if (
      current !== undefined &&
      last.length > 0 &&
      line.slice(0, last.length) === last &&
      !isNameChar(line.charCodeAt(last.length))
    ) {
      family = current;
      i = last.length;
      hash = current.lastNameHash;
    } else {
      if (!isNameStart(line.charCodeAt(0))) this.fail(`"${clip(line)}" does not start with a metric name`);
      hash = Math.imul(FNV_OFFSET ^ line.charCodeAt(0), FNV_PRIME);
      i = 1;
      while (i < length) {
        const c = line.charCodeAt(i);
        if (!isNameChar(c)) break;
        hash = Math.imul(hash ^ c, FNV_PRIME);
        i++;
      }
      // Samples of a family repeat a few names: they share one string per name rather than keep a copy
      // per sample. (A slice compared with === is cheaper than startsWith on a sliced line.)
      family = this.#familyForSample(line.slice(0, i));
      family.lastNameHash = hash;
    }
    const name = family.lastName;

    // The series is the line's own text up to seriesEnd unless its labels had to be rewritten.
    let series: string | undefined;
    let seriesEnd = i;
    let labelCount = 0;
    // This sample's index, in this body's store and in the last body's.
    const index = this.sampleCount;
    if (family.key === '') family.key = `${family.type} ${family.declaredName}`;
    const seen = this.#seenSeries(family, line, index);
    if (seen > 0) {
      seriesEnd = seen;
      hash = this.#last.hash[index]!;
      i = seen;
    } else if (!this.strictSpacing && line.charCodeAt(i) !== 123) i = this.beforeLabels(line, i);
    if (seen > 0) {
      // Labels as in the last body (below: their rules' outcome too).
    } else if (line.charCodeAt(i) === 123 /* { */) {
      const labels = this.labels;
      labelCount = labels.scan(line, i, false);
      if (!labels.canonical || i !== seriesEnd) series = name + labels.render(line, labelCount, false);
      seriesEnd = labels.end;
      hash ^= labels.hash;
      i = seriesEnd;
    } else {
      i = seriesEnd;
    }

    // Value.
    if (!this.separator(line, i)) {
      this.fail(`expected a space and a value after ${clip(line.slice(0, seriesEnd))}`);
    }
    const valueStart = this.separatorEnd;
    const valueEnd = tokenEnd(line, valueStart);
    // Most values are plain decimals printed as scraped: checked and read in one pass over the token, no
    // string made for them (plainNumberAt reads only what decimalKind would call 1, certainly finite).
    const plainValue = plainNumberAt(line, valueStart, valueEnd);
    const plainDecimal = !Number.isNaN(plainValue);
    const kind = plainDecimal ? 1 : decimalKind(line, valueStart, valueEnd);
    const rewritten = kind === 1 ? undefined : this.#rewrittenValue(line, valueStart, valueEnd, kind);
    const value =
      rewritten !== undefined
        ? floatOf(rewritten)
        : plainDecimal
          ? plainValue
          : numberAt(line, valueStart, valueEnd);
    // The line can be served as is when one space separates series and value and nothing was rewritten.
    const plain = series === undefined && valueStart === seriesEnd + 1 && rewritten === undefined;
    i = valueEnd;
    // Before an exemplar's labels overwrite the scratch labels.
    const validator = this.validator;
    if (seen > 0) {
      const last = this.#last;
      validator.checkWithLabelsOf(family, name, value, last.groupHash[index]!, last.le[index]!);
    } else {
      validator.check(family, name, line, value, labelCount);
    }
    // Only a series with labels that is the line's own text is looked up in the next body.
    this.#next.set(
      index,
      series === undefined && line.charCodeAt(seriesEnd - 1) === 125 /* } */ ? family.key : '',
      hash,
      validator.groupHash,
      validator.le,
    );

    // Optional timestamp, then (OpenMetrics) an optional exemplar.
    let timestampMs: number | undefined;
    let exemplar: string | undefined;
    if (i < length) {
      if (!this.separator(line, i)) this.fail(`unexpected text after the value in "${clip(line)}"`);
      i = this.separatorEnd;
      if (i === length) this.fail(`a blank at the end of "${clip(line)}"`);
      if (i < length && line.charCodeAt(i) !== 35 /* # */) {
        const tsEnd = tokenEnd(line, i);
        timestampMs = this.timestamp(line.slice(i, tsEnd));
        i = tsEnd;
        if (i < length) {
          if (!this.separator(line, i)) this.fail(`unexpected text after the timestamp in "${clip(line)}"`);
          i = this.separatorEnd;
          if (i === length) this.fail(`a blank at the end of "${clip(line)}"`);
        }
      }
      if (i < length) exemplar = this.trailer(line, i, family, name);
    }

    if (++this.sampleCount > this.#sampleLimit) {
      throw new ExpositionError(
        'sample_limit',
        this.lineNo,
        `more than ${this.#sampleLimit} samples (--sample-limit)`,
      );
    }
    const store = this.#store!;
    let sample: number;
    if (plain) {
      // The text is the line's own, up to the value's end: stored as that span of the chunk.
      if (this.#segmentId < 0) this.#segmentId = store.addSegment(this.#segmentText);
      const offset = this.lineOffset;
      sample = store.add(
        family.lastNameId,
        this.#segmentId,
        offset,
        offset + valueEnd,
        seriesEnd,
        timestampMs,
        this.lineNo,
      );
    } else {
      const text = `${series ?? line.slice(0, seriesEnd)} ${rewritten ?? line.slice(valueStart, valueEnd)}`;
      const seriesLength = series === undefined ? seriesEnd : series.length;
      sample = store.add(
        family.lastNameId,
        store.addSegment(text),
        0,
        text.length,
        seriesLength,
        timestampMs,
        this.lineNo,
      );
    }
    if (exemplar !== undefined) store.setExemplar(sample, exemplar);
    this.validator.point(family, sample);
    const earlier = this.#series.add(fmix(hash), sample);
    if (earlier >= 0) {
      if (!this.validator.repeated(family, sample, earlier)) {
        this.fail(
          `duplicate series ${clip(store.series(sample))}, first on line ${store.line(earlier)}; a series repeats only in its own label set's samples, with a later timestamp`,
        );
      }
      this.#series.replaceFound(sample);
    }
    // A family's lines are together (the parser fails a body otherwise), so its samples are one range.
    if (family.count === 0) family.first = sample;
    else if (family.first + family.count !== sample) throw new Error("a family's samples are not one range");
    family.count++;
  }

  /**
   * The length of sample `index`'s series in the last valid body if this line starts with that same text
   * (labels included) and its family has the same name and type as there; else 0.
   */
  #seenSeries(family: FamilyBuilder, line: string, index: number): number {
    if (index >= this.#lastCount || this.#last.key[index] !== family.key) return 0;
    return this.#lastStore!.seriesAt(index, line);
  }

  /** Where the labels or the separator after the name start (text 0.0.4 allows blanks before `{`). */
  protected beforeLabels(_line: string, i: number): number {
    return i;
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
    const value = this.value(token, 'value');
    return value === token ? undefined : value;
  }

  /** A timestamp in milliseconds that Prometheus can store (an int64 of milliseconds). */
  protected checkTimestamp(ms: number, token: string): number {
    if (!(Math.abs(ms) < 2 ** 63)) {
      this.fail(
        `timestamp ${clip(token)} is out of range; Prometheus stores milliseconds as a 64-bit integer`,
      );
    }
    return ms;
  }

  protected value(token: string, what: string): string {
    const value = canonicalFloat(token);
    if (value === undefined) this.fail(`"${clip(token)}" is not a valid ${what}; ${VALUE_HINT}`);
    return value;
  }
}

/** Per sample of one body: what its labels gave (see LineParser's `#last`). */
class LabelsOfSamples {
  /** `type declaredName` of the sample's family, or '' when its series is not to be looked up. */
  // Made holding a string, then emptied: the array's elements are strings from the start, so the first
  // store of a key into it does not change its map (and deoptimise the code that stores them).
  readonly key: string[] = [''];
  hash: Int32Array;
  groupHash: Int32Array;
  le: Float64Array;

  constructor(size: number) {
    this.key.length = 0;
    this.hash = new Int32Array(size);
    this.groupHash = new Int32Array(size);
    this.le = new Float64Array(size);
  }

  /** Room for about `expected` samples; the arrays grow past it as needed. */
  reserve(expected: number): void {
    this.key.length = 0;
    if (this.hash.length < expected) this.#resize(expected);
  }

  set(index: number, key: string, hash: number, groupHash: number, le: number): void {
    if (index >= this.hash.length) this.#resize(Math.max(64, index * 2));
    this.key[index] = key;
    this.hash[index] = hash;
    this.groupHash[index] = groupHash;
    this.le[index] = le;
  }

  #resize(size: number): void {
    const hash = new Int32Array(size);
    const groupHash = new Int32Array(size);
    const le = new Float64Array(size);
    hash.set(this.hash.subarray(0, Math.min(size, this.hash.length)));
    groupHash.set(this.groupHash.subarray(0, Math.min(size, this.groupHash.length)));
    le.set(this.le.subarray(0, Math.min(size, this.le.length)));
    this.hash = hash;
    this.groupHash = groupHash;
    this.le = le;
  }
}
