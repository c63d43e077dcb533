import type { MetricFamily, Sample } from './snapshot.js';

/**
 * The samples of one parsed body in columns: each sample's text is a span of a kept string (the decoded
 * body, or a chunk of it) or, when the parser rewrote it, a string of its own; name, series length,
 * timestamp and line are numbers in typed arrays. A snapshot of 10,000 samples is then a few arrays
 * instead of 10,000 objects and 10,000 sliced strings: the scavenger has nothing to copy while a body is
 * parsed (its objects all survive: the snapshot is live), old space has nothing to mark, and the renderer
 * writes runs of unchanged lines as one span of the body (`appendRuns`).
 *
 * Sample objects are made only when asked for (`sampleAt`, a family's `samples`): tests, messages, and the
 * rare merge of one family from two sources.
 */
export class SampleStore {
  /** The strings the texts are spans of. */
  readonly #segments: string[] = [];
  readonly #names: string[] = [];
  #segment: Int32Array;
  #start: Int32Array;
  #end: Int32Array;
  #seriesLength: Int32Array;
  #nameId: Int32Array;
  #line: Int32Array;
  /** Milliseconds; NaN for none (a NaN timestamp never passes the parser). */
  #timestamp: Float64Array;
  #exemplars: Map<number, string> | undefined;
  #count = 0;

  constructor(expected: number) {
    const capacity = Math.max(64, expected);
    this.#segment = new Int32Array(capacity);
    this.#start = new Int32Array(capacity);
    this.#end = new Int32Array(capacity);
    this.#seriesLength = new Int32Array(capacity);
    this.#nameId = new Int32Array(capacity);
    this.#line = new Int32Array(capacity);
    this.#timestamp = new Float64Array(capacity);
  }

  get count(): number {
    return this.#count;
  }

  /** Registers a string that sample texts are spans of; returns its id. */
  addSegment(text: string): number {
    return this.#segments.push(text) - 1;
  }

  /** Registers a sample name; returns its id. */
  addName(name: string): number {
    return this.#names.push(name) - 1;
  }

  /**
   * Adds a sample whose text is `segment`'s characters from `start` to `end`, its series the first
   * `seriesLength` of them. Returns its index.
   */
  add(
    nameId: number,
    segment: number,
    start: number,
    end: number,
    seriesLength: number,
    timestampMs: number | undefined,
    line: number,
  ): number {
    const index = this.#count;
    if (index === this.#start.length) this.#grow();
    this.#segment[index] = segment;
    this.#start[index] = start;
    this.#end[index] = end;
    this.#seriesLength[index] = seriesLength;
    this.#nameId[index] = nameId;
    this.#line[index] = line;
    this.#timestamp[index] = timestampMs ?? Number.NaN;
    this.#count = index + 1;
    return index;
  }

  setExemplar(index: number, exemplar: string): void {
    this.#exemplars ??= new Map();
    this.#exemplars.set(index, exemplar);
  }

  name(index: number): string {
    return this.#names[this.#nameId[index]!]!;
  }

  line(index: number): number {
    return this.#line[index]!;
  }

  timestampMs(index: number): number | undefined {
    const ts = this.#timestamp[index]!;
    return Number.isNaN(ts) ? undefined : ts;
  }

  /** `<series> <value>` as `Sample.text`. */
  text(index: number): string {
    return this.#segments[this.#segment[index]!]!.slice(this.#start[index], this.#end[index]);
  }

  /** Name and labels as printed, as `seriesOf`. */
  series(index: number): string {
    const start = this.#start[index]!;
    return this.#segments[this.#segment[index]!]!.slice(start, start + this.#seriesLength[index]!);
  }

  /**
   * The length of sample `index`'s series if `line` starts with it and has more after it, else 0 (a
   * series is never empty).
   */
  seriesAt(index: number, line: string): number {
    const length = this.#seriesLength[index]!;
    if (line.length <= length) return 0;
    const text = this.#segments[this.#segment[index]!]!;
    const start = this.#start[index]!;
    // Two slices and === (a native comparison of the characters) cost less than comparing them in a loop.
    return line.slice(0, length) === text.slice(start, start + length) ? length : 0;
  }

  textLength(index: number): number {
    return this.#end[index]! - this.#start[index]!;
  }

  hasTrailer(index: number): boolean {
    return !Number.isNaN(this.#timestamp[index]!) || this.#exemplars?.has(index) === true;
  }

  exemplar(index: number): string | undefined {
    return this.#exemplars?.get(index);
  }

  sampleAt(index: number): Sample {
    return {
      name: this.name(index),
      text: this.text(index),
      seriesLength: this.#seriesLength[index]!,
      timestampMs: this.timestampMs(index),
      exemplar: this.exemplar(index),
      line: this.#line[index]!,
    };
  }

  /**
   * Writes the texts of samples `from` to `to` (exclusive), each followed by a newline, to `out`. Samples
   * with neither timestamp nor exemplar whose texts are adjacent lines of one segment (the next text starts
   * just past the newline that ends this one, so nothing but that newline is between them) are written as
   * one span. Samples with a timestamp or an exemplar go to `trailer` instead, which writes them itself.
   */
  appendRuns(
    from: number,
    to: number,
    out: { write(text: string): void; line(text: string): void },
    trailer: (index: number) => void,
  ): void {
    const segments = this.#segments;
    const segment = this.#segment;
    const start = this.#start;
    const end = this.#end;
    let k = from;
    while (k < to) {
      if (this.hasTrailer(k)) {
        trailer(k);
        k++;
        continue;
      }
      const seg = segment[k]!;
      const text = segments[seg]!;
      let last = k;
      while (
        last + 1 < to &&
        segment[last + 1] === seg &&
        start[last + 1] === end[last]! + 1 &&
        text.charCodeAt(end[last]!) === 10 &&
        !this.hasTrailer(last + 1)
      )
        last++;
      out.line(text.slice(start[k], end[last]));
      k = last + 1;
    }
  }

  #grow(): void {
    const size = this.#start.length * 2;
    const grow = <T extends Int32Array | Float64Array>(old: T, make: (n: number) => T): T => {
      const bigger = make(size);
      bigger.set(old);
      return bigger;
    };
    const int = (n: number) => new Int32Array(n);
    this.#segment = grow(this.#segment, int);
    this.#start = grow(this.#start, int);
    this.#end = grow(this.#end, int);
    this.#seriesLength = grow(this.#seriesLength, int);
    this.#nameId = grow(this.#nameId, int);
    this.#line = grow(this.#line, int);
    this.#timestamp = grow(this.#timestamp, (n) => new Float64Array(n));
  }
}

/** Where a parsed family's samples are: `count` samples of `store` from `first`. */
export interface SampleRange {
  readonly store: SampleStore;
  readonly first: number;
  readonly count: number;
}

const RANGE = Symbol('sample range');

type ParsedFamilyFields = Omit<MetricFamily, 'samples'>;

/**
 * A family whose samples are `range`: `samples` is made on first use (then kept); the renderer reads the
 * range instead (`sampleRangeOf`). Frozen like every family; the range is not an enumerable property, so
 * comparing families compares their samples, not how they are stored.
 */
export function parsedFamily(fields: ParsedFamilyFields, range: SampleRange): MetricFamily {
  let samples: readonly Sample[] | undefined;
  const family = { ...fields } as MetricFamily;
  Object.defineProperty(family, 'samples', {
    enumerable: true,
    get(): readonly Sample[] {
      if (samples === undefined) {
        const made: Sample[] = new Array(range.count);
        for (let k = 0; k < range.count; k++) made[k] = range.store.sampleAt(range.first + k);
        samples = Object.freeze(made);
      }
      return samples;
    },
  });
  Object.defineProperty(family, RANGE, { value: range, enumerable: false });
  return Object.freeze(family);
}

/** The samples of a family as the parser stored them, if it came from a parser as is. */
export function sampleRangeOf(family: MetricFamily): SampleRange | undefined {
  return (family as { [RANGE]?: SampleRange })[RANGE];
}
