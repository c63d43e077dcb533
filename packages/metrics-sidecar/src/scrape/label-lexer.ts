import {
  clip,
  compareSpans,
  equalAt,
  FNV_OFFSET,
  FNV_PRIME,
  fmix,
  isLabelChar,
  isLabelStart,
  skipBlanks,
} from './lexing.js';

const EXEMPLAR_LABELS_MAX = 128;

/** How the parser reports a lexing error: it adds the line number. */
export type Fail = (problem: string) => never;

/**
 * Lexes `{name="value",...}` into spans of the line (name start, name end, value start, value end, per
 * label), reused from line to line so a label set costs no allocation. Values stay escaped: both formats
 * escape the same characters, and a served line is the scraped one unless a label had to be rewritten.
 */
export class LabelLexer {
  /** Per label k: name start, name end, value start, value end (escaped). */
  readonly spans: number[] = [];
  /** Per label k: the label's own hash; their sum is `hash`. */
  readonly hashes: number[] = [];
  /** Whether the label text can be served as scraped (no blanks, no trailing comma). */
  canonical = true;
  /** Whether a value of the last set has a backslash that does not start `\\`, `\"` or `\n`. */
  reescape = false;
  /** Order-independent hash of the last label set. */
  hash = 0;
  /** Index just past the `}`. */
  end = 0;
  readonly #order: number[] = [];
  /** Text 0.0.4 allows blanks around label tokens and a trailing comma; OpenMetrics does not. */
  readonly #lenient: boolean;
  readonly #fail: Fail;

  constructor(lenient: boolean, fail: Fail) {
    this.#lenient = lenient;
    this.#fail = fail;
  }

  /** Lexes the label set whose `{` is at `start`; returns the label count. */
  scan(line: string, start: number, exemplar: boolean): number {
    const lenient = this.#lenient;
    const length = line.length;
    const spans = this.spans;
    const hashes = this.hashes;
    const fail = this.#fail;
    let count = 0;
    let canonical = true;
    this.reescape = false;
    let sum = 0;
    let i = start + 1;
    let j = lenient ? skipBlanks(line, i) : i;
    if (j !== i) canonical = false;
    i = j;
    while (true) {
      if (i >= length) fail('unterminated label set; expected "}"');
      if (line.charCodeAt(i) === 125 /* } */) {
        if (count > 0) {
          if (!lenient) fail('a comma before "}" in a label set');
          canonical = false;
        }
        i++;
        break;
      }
      const nameStart = i;
      if (!isLabelStart(line.charCodeAt(i))) {
        fail(
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
        if (!lenient || labelName === '__name__') fail(`label name ${labelName} is reserved`);
      }
      if (lenient) {
        j = skipBlanks(line, i);
        if (j !== i) canonical = false;
        i = j;
      }
      if (line.charCodeAt(i) !== 61 /* = */) {
        fail(`expected "=" after label name ${line.slice(nameStart, nameEnd)}`);
      }
      i++;
      if (lenient) {
        j = skipBlanks(line, i);
        if (j !== i) canonical = false;
        i = j;
      }
      if (line.charCodeAt(i) !== 34 /* " */) {
        fail(`expected a quoted value for label ${line.slice(nameStart, nameEnd)}`);
      }
      i++;
      const valueStart = i;
      while (true) {
        if (i >= length) fail(`unterminated value for label ${line.slice(nameStart, nameEnd)}`);
        const c = line.charCodeAt(i);
        if (c === 34) break;
        if (c === 92 /* \ */) {
          const next = line.charCodeAt(i + 1);
          if (next !== 92 && next !== 34 && next !== 110 /* n */) {
            // Any other escaped character stands for a backslash and itself (both specs' parsers read it
            // so), but Prometheus' text parser in promtool rejects it: the value is served re-escaped.
            if (i + 1 >= length) fail(`unterminated value for label ${line.slice(nameStart, nameEnd)}`);
            canonical = false;
            this.reescape = true;
            labelHash = Math.imul(Math.imul(labelHash ^ 92, FNV_PRIME) ^ 92, FNV_PRIME);
            i++;
            continue;
          }
          labelHash = Math.imul(Math.imul(labelHash ^ 92, FNV_PRIME) ^ next, FNV_PRIME);
          i += 2;
          continue;
        }
        labelHash = Math.imul(labelHash ^ c, FNV_PRIME);
        i++;
      }
      labelHash = fmix(labelHash);
      sum = (sum + labelHash) | 0;
      hashes[count] = labelHash;
      const base = count * 4;
      spans[base] = nameStart;
      spans[base + 1] = nameEnd;
      spans[base + 2] = valueStart;
      spans[base + 3] = i;
      count++;
      i++;
      if (lenient) {
        j = skipBlanks(line, i);
        if (j !== i) canonical = false;
        i = j;
      }
      const c = line.charCodeAt(i);
      if (c === 44 /* , */) {
        i++;
        if (lenient) {
          j = skipBlanks(line, i);
          if (j !== i) canonical = false;
          i = j;
        }
        continue;
      }
      if (c !== 125) {
        fail(`expected "," or "}" after the value of label ${line.slice(nameStart, nameEnd)}`);
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
          fail(`label ${line.slice(spans[a * 4]!, spans[a * 4 + 1]!)} appears twice in one label set`);
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
        fail(`exemplar labels are ${runes} characters long; OpenMetrics allows ${EXEMPLAR_LABELS_MAX}`);
      }
    }
    this.canonical = canonical;
    this.end = i;
    this.hash = sum;
    return count;
  }

  /** Index of the label called `label` among the last set's `count` labels, or -1. */
  indexOf(line: string, label: string, count: number): number {
    const spans = this.spans;
    for (let k = 0; k < count; k++) {
      const start = spans[k * 4]!;
      if (spans[k * 4 + 1]! - start === label.length && equalAt(line, start, label)) return k;
    }
    return -1;
  }

  /** `{a="1",b="2"}` from the last set's spans, in line order or sorted by label name. */
  render(line: string, count: number, sorted: boolean): string {
    const spans = this.spans;
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
      const value = line.slice(spans[base + 2]!, spans[base + 3]!);
      text += `${line.slice(spans[base]!, spans[base + 1]!)}="${this.reescape ? reescape(value) : value}"`;
    }
    return `${text}}`;
  }
}

/** `\z` (a backslash and a character that needs no escape) as `\\z`; the three real escapes stay. */
function reescape(value: string): string {
  return value.replace(/\\(.)/g, (whole, c: string) =>
    c === '\\' || c === '"' || c === 'n' ? whole : `\\${whole}`,
  );
}
